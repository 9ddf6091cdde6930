namespace Shortener.Core.Links;

/// <summary>
/// A keyed bijection on [0, 62^length): a balanced Feistel network on the smallest even number of
/// bits that covers the domain, with cycle-walking to stay inside it. Sequence numbers 0, 1, 2, …
/// map to codes that look random and cannot be predicted without the key, yet two different numbers
/// can never map to the same code, so uniqueness of the counter is uniqueness of the code.
/// </summary>
public sealed class CodeScrambler
{
    private const int Rounds = 6;
    private readonly ulong[] _roundKeys = new ulong[Rounds];
    private readonly int _halfBits;
    private readonly ulong _halfMask;

    public CodeScrambler(ulong key, int length)
    {
        Length = length;
        Domain = Base62.Capacity(length);
        var bits = 64 - System.Numerics.BitOperations.LeadingZeroCount(Domain - 1);
        if (bits % 2 == 1)
        {
            bits++;
        }

        _halfBits = bits / 2;
        _halfMask = (1UL << _halfBits) - 1;
        var state = key;
        for (var i = 0; i < Rounds; i++)
        {
            _roundKeys[i] = SplitMix64.Next(ref state);
        }
    }

    public int Length { get; }

    /// <summary>62^Length: numbers at or above it have no code of this length.</summary>
    public ulong Domain { get; }

    public ulong Scramble(ulong value)
    {
        if (value >= Domain)
        {
            throw new ArgumentOutOfRangeException(nameof(value), value, "outside the code domain");
        }

        // Cycle-walk: the Feistel permutation is on [0, 2^bits); re-apply until the result is
        // back inside the domain. The domain is more than half the space, so this ends quickly.
        do
        {
            value = Permute(value);
        }
        while (value >= Domain);
        return value;
    }

    public ulong Unscramble(ulong value)
    {
        if (value >= Domain)
        {
            throw new ArgumentOutOfRangeException(nameof(value), value, "outside the code domain");
        }

        do
        {
            value = InversePermute(value);
        }
        while (value >= Domain);
        return value;
    }

    public string ToCode(ulong sequence) => Base62.Encode(Scramble(sequence), Length);

    private ulong Permute(ulong value)
    {
        var left = value >> _halfBits;
        var right = value & _halfMask;
        for (var i = 0; i < Rounds; i++)
        {
            (left, right) = (right, left ^ Round(right, i));
        }

        return (left << _halfBits) | right;
    }

    private ulong InversePermute(ulong value)
    {
        var left = value >> _halfBits;
        var right = value & _halfMask;
        for (var i = Rounds - 1; i >= 0; i--)
        {
            (left, right) = (right ^ Round(left, i), left);
        }

        return (left << _halfBits) | right;
    }

    private ulong Round(ulong half, int round)
    {
        var x = half ^ _roundKeys[round];
        return SplitMix64.Mix(x) & _halfMask;
    }
}
