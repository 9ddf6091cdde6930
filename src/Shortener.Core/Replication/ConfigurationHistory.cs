using Shortener.Core.Raft;

namespace Shortener.Core.Replication;

/// <summary>
/// The membership in force after each change applied since the last snapshot. A snapshot captured
/// off the driver's thread names an applied index that may lie before the latest change; the
/// snapshot must record the membership of its own index, or a replica restarting from it would
/// count votes with the wrong configuration.
/// </summary>
public sealed class ConfigurationHistory
{
    private readonly List<(ulong Index, ConfState Config)> _changes = [];

    public ConfigurationHistory(ulong index, ConfState config) => _changes.Add((index, config));

    public int Count => _changes.Count;

    public void Applied(ulong index, ConfState config) => _changes.Add((index, config));

    /// <summary>A snapshot replaced the state: its membership is the whole history now.</summary>
    public void Reset(ulong index, ConfState config)
    {
        _changes.Clear();
        _changes.Add((index, config));
    }

    /// <summary>The membership in force once entry <paramref name="index"/> was applied.</summary>
    public ConfState At(ulong index)
    {
        for (var i = _changes.Count - 1; i >= 0; i--)
        {
            if (_changes[i].Index <= index)
            {
                return _changes[i].Config;
            }
        }

        return _changes[0].Config;
    }

    /// <summary>A snapshot at <paramref name="index"/> now holds the membership up to it: earlier records go.</summary>
    public void CompactTo(ulong index)
    {
        var config = At(index);
        _changes.RemoveAll(c => c.Index <= index);
        _changes.Insert(0, (index, config));
    }
}
