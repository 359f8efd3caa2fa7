using CitySight.Cluster;

namespace CitySight.Cluster.Tests;

/// <summary>
/// Every change of every node's Owned, in the order they happened (one lock for all nodes): replayed as it comes, it
/// catches a camera gained by one node while another still holds it, however briefly — sampling could miss that.
/// </summary>
internal sealed class OwnershipLog
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, string> _holder = new(StringComparer.Ordinal);
    private readonly List<string> _overlaps = [];
    private readonly List<(long Seq, string Node, string Camera, bool Gained)> _events = [];

    public void Watch(CameraOwnership node) => node.Changed += change => Record(node.NodeId, change);

    public IReadOnlyList<string> Overlaps { get { lock (_gate) return [.. _overlaps]; } }

    public long Sequence { get { lock (_gate) return _events.Count; } }

    /// <summary>Cameras gained by each node since event <paramref name="since"/>.</summary>
    public Dictionary<string, int> GainsSince(long since)
    {
        lock (_gate)
            return _events.Skip((int)since).Where(e => e.Gained).GroupBy(e => e.Node).ToDictionary(g => g.Key, g => g.Count());
    }

    private void Record(string node, OwnershipChange change)
    {
        lock (_gate)
        {
            foreach (var camera in change.Lost)
            {
                _events.Add((_events.Count, node, camera, false));
                if (_holder.TryGetValue(camera, out var holder) && holder == node) _holder.Remove(camera);
            }
            foreach (var camera in change.Gained)
            {
                _events.Add((_events.Count, node, camera, true));
                if (_holder.TryGetValue(camera, out var holder) && holder != node)
                    _overlaps.Add($"{camera} gained by {node} while {holder} still ran it");
                _holder[camera] = node;
            }
        }
    }
}
