using System.Security.Cryptography;
using System.Text;

namespace Shortener.Node.Peers;

/// <summary>
/// The secret every peer call carries and every peer checks (in constant time). A node alone
/// without one draws a random secret, which refuses anyone who tries: <see cref="Configured"/> is
/// then false and nobody can join it.
/// </summary>
public sealed class ClusterSecret
{
    private readonly byte[] _hash;

    public ClusterSecret(string value, bool configured)
    {
        Value = value;
        Configured = configured;
        _hash = SHA256.HashData(Encoding.UTF8.GetBytes(value));
    }

    public string Value { get; }

    public bool Configured { get; }

    public static ClusterSecret Random() => new(Convert.ToHexString(RandomNumberGenerator.GetBytes(16)), configured: false);

    public bool Matches(string? presented) =>
        presented is not null && CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(presented)), _hash);
}
