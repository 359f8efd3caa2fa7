using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace CitySight.Tests;

/// <summary>
/// Real X.509 certificates made for one test: a CA, server certificates for localhost/127.0.0.1, client certificates
/// (CN = consumer), written as PEM files for the components that read files (Kestrel via config, mosquitto).
/// </summary>
public sealed class TestCertificates : IDisposable
{
    private readonly List<X509Certificate2> _made = [];
    private readonly Dictionary<string, string> _keyPems = [];

    public TestCertificates(string folder, string caName = "CitySight test CA")
    {
        Folder = folder;
        Directory.CreateDirectory(folder);
        Ca = Authority(caName);
        CaFile = Path.Combine(folder, "ca.crt");
        File.WriteAllText(CaFile, Ca.ExportCertificatePem());
    }

    public string Folder { get; }
    public X509Certificate2 Ca { get; }
    public string CaFile { get; }

    /// <summary>A self-signed CA (for a second, untrusted authority too).</summary>
    public X509Certificate2 Authority(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var req = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        req.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        req.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        req.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(req.PublicKey, false));
        var ca = req.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        _made.Add(ca);
        return ca;
    }

    /// <summary>A server (localhost, 127.0.0.1) or client (CN = <paramref name="cn"/>) certificate signed by <paramref name="issuer"/> (default: <see cref="Ca"/>).</summary>
    public X509Certificate2 Issue(string cn, bool server, X509Certificate2? issuer = null)
    {
        issuer ??= Ca;
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var req = new CertificateRequest($"CN={cn}", key, HashAlgorithmName.SHA256);
        req.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        req.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyAgreement, true));
        req.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(server ? "1.3.6.1.5.5.7.3.1" : "1.3.6.1.5.5.7.3.2")], false));
        if (server)
        {
            var san = new SubjectAlternativeNameBuilder();
            san.AddDnsName("localhost");
            san.AddIpAddress(IPAddress.Loopback);
            req.CertificateExtensions.Add(san.Build());
        }
        req.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(issuer, true, false));
        using var issued = req.Create(issuer, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddDays(7), RandomNumberGenerator.GetBytes(12));
        using var withKey = issued.CopyWithPrivateKey(key);
        var loaded = X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
        _keyPems[loaded.Thumbprint] = key.ExportPkcs8PrivateKeyPem();
        _made.Add(loaded);
        return loaded;
    }

    /// <summary>Writes NAME.crt and NAME.key (PEM, unencrypted PKCS#8) and returns their paths.</summary>
    public (string Cert, string Key) WritePem(X509Certificate2 cert, string name)
    {
        var certFile = Path.Combine(Folder, name + ".crt");
        var keyFile = Path.Combine(Folder, name + ".key");
        File.WriteAllText(certFile, cert.ExportCertificatePem());
        File.WriteAllText(keyFile, _keyPems[cert.Thumbprint]);
        return (certFile, keyFile);
    }

    /// <summary>True when <paramref name="cert"/> chains to <paramref name="root"/> (default <see cref="Ca"/>) alone.</summary>
    public bool Trusts(X509Certificate2? cert, X509Certificate2? root = null)
    {
        if (cert is null) return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(root ?? Ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(cert);
    }

    public void Dispose()
    {
        foreach (var c in _made) c.Dispose();
    }
}
