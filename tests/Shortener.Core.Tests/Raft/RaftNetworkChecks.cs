namespace Shortener.Core.Tests.Raft;

internal static class RaftNetworkChecks
{
    /// <summary>A description of two replicas that applied different entries at one index, or null (state machine safety).</summary>
    public static string? AppliedConflict(RaftNetwork net)
    {
        var seen = new Dictionary<ulong, (ulong Replica, ulong Term, string Data)>();
        foreach (var id in net.Ids)
        {
            foreach (var entry in net.Applied(id))
            {
                var data = Convert.ToHexString(entry.Data);
                if (seen.TryGetValue(entry.Index, out var other) && (other.Term != entry.Term || other.Data != data))
                {
                    return $"index {entry.Index}: replica {other.Replica} applied term {other.Term}, replica {id} applied term {entry.Term}";
                }

                seen.TryAdd(entry.Index, (id, entry.Term, data));
            }
        }

        return null;
    }
}
