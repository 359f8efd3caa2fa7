using System.Security.Cryptography;
using System.Text;

namespace CitySight.Delivery.Security;

/// <summary>
/// The API keys dispatch systems present (<c>x-api-key</c>), each belonging to one consumer name. Read once from
/// "consumer=key,consumer=key" (an environment variable named in config). Keys are compared by their SHA-256 in constant
/// time and never kept, logged or echoed.
/// </summary>
public sealed class ConsumerKeys
{
    private readonly List<(byte[] Hash, string Consumer)> _keys = [];

    private ConsumerKeys() { }

    /// <summary>How many keys are known (for the start-up log: the count, never a key).</summary>
    public int Count => _keys.Count;

    /// <summary>Parses "consumer=key,…". Errors name the entry's position and consumer, never a key.</summary>
    public static ConsumerKeys Parse(string text, string source)
    {
        var keys = new ConsumerKeys();
        var entries = text.Split([',', '\n', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (entries.Length == 0) throw new FormatException($"{source}: no API keys; expected consumer=key pairs separated by commas");
        for (var i = 0; i < entries.Length; i++)
        {
            var eq = entries[i].IndexOf('=');
            var consumer = eq > 0 ? entries[i][..eq].Trim() : "";
            var key = eq > 0 ? entries[i][(eq + 1)..].Trim() : "";
            if (consumer.Length == 0 || key.Length == 0)
                throw new FormatException($"{source}: entry {i + 1} is not consumer=key");
            if (key.Length < 16)
                throw new FormatException($"{source}: the key of consumer '{consumer}' is shorter than 16 characters");
            var hash = SHA256.HashData(Encoding.UTF8.GetBytes(key));
            if (keys._keys.Any(k => CryptographicOperations.FixedTimeEquals(k.Hash, hash)))
                throw new FormatException($"{source}: the key of consumer '{consumer}' is also another consumer's key");
            keys._keys.Add((hash, consumer));
        }
        return keys;
    }

    /// <summary>The consumer this key belongs to, or null.</summary>
    public string? ConsumerOf(string? key)
    {
        if (string.IsNullOrEmpty(key)) return null;
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(key));
        string? found = null;
        // Every entry is compared, so the time taken does not say which one matched.
        foreach (var (h, consumer) in _keys)
            if (CryptographicOperations.FixedTimeEquals(h, hash)) found = consumer;
        return found;
    }
}
