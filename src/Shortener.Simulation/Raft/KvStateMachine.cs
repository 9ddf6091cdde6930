using System.Text.Json;

namespace Shortener.Simulation.Raft;

/// <summary>
/// The application the simulated cluster replicates: string registers with put and
/// compare-and-set, and per-client sessions so a command applied twice (a duplicated proposal)
/// takes effect once and returns its first result.
/// </summary>
public sealed class KvStateMachine
{
    private Dictionary<string, string> _values = new(StringComparer.Ordinal);
    private Dictionary<int, (long Request, string Result)> _sessions = [];

    public ulong AppliedIndex { get; private set; }

    public string? Get(string key) => _values.GetValueOrDefault(key);

    /// <summary>Applies the command at <paramref name="index"/> and returns its result ("ok", "fail", or the cached first result).</summary>
    public string Apply(ulong index, KvCommand? command)
    {
        AppliedIndex = index;
        if (command is null)
        {
            return string.Empty;
        }

        if (_sessions.TryGetValue(command.Client, out var session) && command.Request <= session.Request)
        {
            return command.Request == session.Request ? session.Result : "stale";
        }

        string result;
        switch (command.Op)
        {
            case KvOperation.Put:
                _values[command.Key] = command.Value!;
                result = "ok";
                break;
            case KvOperation.Cas:
                if (_values.GetValueOrDefault(command.Key) == command.Expected)
                {
                    _values[command.Key] = command.Value!;
                    result = "ok";
                }
                else
                {
                    result = "fail";
                }

                break;
            default:
                result = "invalid";
                break;
        }

        _sessions[command.Client] = (command.Request, result);
        return result;
    }

    public void Skip(ulong index) => AppliedIndex = index;

    public byte[] Snapshot() => JsonSerializer.SerializeToUtf8Bytes(new Image(
        AppliedIndex,
        _values.OrderBy(p => p.Key, StringComparer.Ordinal).ToDictionary(),
        _sessions.OrderBy(p => p.Key).ToDictionary(p => p.Key, p => new SessionImage(p.Value.Request, p.Value.Result))));

    public static KvStateMachine Restore(byte[] snapshot)
    {
        var image = JsonSerializer.Deserialize<Image>(snapshot)!;
        return new KvStateMachine
        {
            AppliedIndex = image.Applied,
            _values = new Dictionary<string, string>(image.Values, StringComparer.Ordinal),
            _sessions = image.Sessions.ToDictionary(p => p.Key, p => (p.Value.Request, p.Value.Result)),
        };
    }

    private sealed record Image(ulong Applied, Dictionary<string, string> Values, Dictionary<int, SessionImage> Sessions);

    private sealed record SessionImage(long Request, string Result);
}
