using System.Text;

namespace Shortener.Simulation.Raft;

/// <summary>A write to the simulated key-value store, as carried in a log entry. (client, request) identify it for deduplication.</summary>
public sealed record KvCommand(int Client, long Request, KvOperation Op, string Key, string? Value, string? Expected)
{
    private const char Separator = '\u001f';

    public byte[] Encode() => Encoding.UTF8.GetBytes(string.Join(Separator, Client, Request, (int)Op, Key, Value ?? "\0", Expected ?? "\0"));

    public static KvCommand Decode(byte[] data)
    {
        var parts = Encoding.UTF8.GetString(data).Split(Separator);
        string? Nullable(string s) => s == "\0" ? null : s;
        return new KvCommand(int.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture), long.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture), (KvOperation)int.Parse(parts[2], System.Globalization.CultureInfo.InvariantCulture), parts[3], Nullable(parts[4]), Nullable(parts[5]));
    }
}
