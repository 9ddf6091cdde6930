namespace Shortener.Core.Links;

/// <summary>
/// Base62 with the alphabet 0-9, A-Z, a-z. Codes are fixed-length (left-padded with '0'),
/// so the text order of two codes of one length equals the order of their numbers.
/// </summary>
public static class Base62
{
    public const string Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    /// <summary>The number of distinct codes of <paramref name="length"/> characters: 62^length.</summary>
    public static ulong Capacity(int length)
    {
        if (length is < 1 or > 10)
        {
            throw new ArgumentOutOfRangeException(nameof(length), length, "code length must be 1..10");
        }

        ulong capacity = 1;
        for (var i = 0; i < length; i++)
        {
            capacity *= 62;
        }

        return capacity;
    }

    public static string Encode(ulong value, int length)
    {
        if (value >= Capacity(length))
        {
            throw new ArgumentOutOfRangeException(nameof(value), value, $"does not fit in {length} base62 digits");
        }

        return string.Create(length, value, static (span, v) =>
        {
            for (var i = span.Length - 1; i >= 0; i--)
            {
                span[i] = Alphabet[(int)(v % 62)];
                v /= 62;
            }
        });
    }

    public static bool TryDecode(ReadOnlySpan<char> text, out ulong value)
    {
        value = 0;
        if (text.Length is < 1 or > 10)
        {
            return false;
        }

        foreach (var c in text)
        {
            int digit = c switch
            {
                >= '0' and <= '9' => c - '0',
                >= 'A' and <= 'Z' => c - 'A' + 10,
                >= 'a' and <= 'z' => c - 'a' + 36,
                _ => -1,
            };
            if (digit < 0)
            {
                return false;
            }

            value = (value * 62) + (ulong)digit;
        }

        return true;
    }
}
