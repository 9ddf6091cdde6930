using System.Buffers.Text;
using System.Globalization;
using System.Text;

namespace Shortener.Core.Links;

/// <summary>
/// A keyset-paging position: the (createdAt, code) of the last link on a page, newest first.
/// Sent to clients as an opaque URL-safe token.
/// </summary>
public readonly record struct LinkCursor(long CreatedAt, string Code)
{
    public string Encode() => Base64Url.EncodeToString(Encoding.UTF8.GetBytes($"{CreatedAt.ToString(CultureInfo.InvariantCulture)}:{Code}"));

    public static bool TryDecode(string? token, out LinkCursor cursor)
    {
        cursor = default;
        if (string.IsNullOrEmpty(token) || token.Length > 200)
        {
            return false;
        }

        byte[] bytes;
        try
        {
            bytes = Base64Url.DecodeFromChars(token);
        }
        catch (FormatException)
        {
            return false;
        }

        var text = Encoding.UTF8.GetString(bytes);
        var colon = text.IndexOf(':');
        if (colon <= 0 || !long.TryParse(text.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out var createdAt))
        {
            return false;
        }

        var code = text[(colon + 1)..];
        if (code.Length == 0)
        {
            return false;
        }

        cursor = new LinkCursor(createdAt, code);
        return true;
    }
}
