using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Shortener.Core.Links;

/// <summary>
/// Decides whether a URL may be the target of a short link and returns it normalised: absolute
/// http or https only, no credentials, a valid host (IDN names turned into punycode), at most
/// <see cref="MaxBytes"/> bytes, ASCII only (so it is a valid Location header), and not pointing
/// back at this service (which would make a redirect loop).
/// </summary>
public sealed class TargetUrlRules
{
    public const int MaxBytes = 8 * 1024;

    // STD3 rules would refuse '_', which real host names (and browsers) do use; labels are checked below instead.
    private static readonly IdnMapping Idn = new() { UseStd3AsciiRules = false, AllowUnassigned = false };
    private readonly HashSet<(string Host, int Port)> _self;

    /// <param name="selfAddresses">
    /// Base URLs under which this service is reachable (public URL, listening addresses). A target
    /// with the same host and port is refused.
    /// </param>
    public TargetUrlRules(IEnumerable<string> selfAddresses)
    {
        _self = [];
        foreach (var address in selfAddresses)
        {
            if (Uri.TryCreate(address, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https")
            {
                var host = uri.HostNameType == UriHostNameType.IPv6 ? uri.IdnHost.Trim('[', ']') : uri.IdnHost;
                _self.Add((SelfKey(NormaliseHost(host)), uri.Port));
            }
        }
    }

    public static TargetUrlRules WithoutSelf { get; } = new([]);

    public ValidationResult<string> Validate(string? input)
    {
        if (string.IsNullOrEmpty(input))
        {
            return Fail("url is required");
        }

        if (Encoding.UTF8.GetByteCount(input) > MaxBytes)
        {
            return Fail($"url is longer than {MaxBytes} bytes");
        }

        for (var i = 0; i < input.Length; i++)
        {
            var c = input[i];
            if (char.IsWhiteSpace(c) || char.IsControl(c))
            {
                return Fail($"url contains whitespace or a control character ({AliasRules.Printable(c)}) at position {i + 1}; percent-encode it");
            }

            if (c == '\\')
            {
                return Fail($"url contains a backslash at position {i + 1}; use '/' or percent-encode it");
            }

            if (char.IsHighSurrogate(c) && i + 1 < input.Length && char.IsLowSurrogate(input[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(c))
            {
                return Fail($"url contains an unpaired UTF-16 surrogate at position {i + 1}");
            }
        }

        var colon = input.IndexOf(':');
        if (colon <= 0 || !IsScheme(input.AsSpan(0, colon)))
        {
            return Fail("url must be absolute and start with http:// or https://");
        }

        var scheme = input[..colon].ToLowerInvariant();
        if (scheme is not ("http" or "https"))
        {
            return Fail($"only http and https URLs can be shortened, not '{input[..(colon + 1)]}'");
        }

        var rest = input.AsSpan(colon + 1);
        if (!rest.StartsWith("//"))
        {
            return Fail($"url must have the form {scheme}://host/...");
        }

        rest = rest[2..];
        var authorityEnd = rest.IndexOfAny('/', '?', '#');
        var authority = authorityEnd < 0 ? rest : rest[..authorityEnd];
        var tail = authorityEnd < 0 ? ReadOnlySpan<char>.Empty : rest[authorityEnd..];

        if (authority.Contains('@'))
        {
            return Fail("url must not contain a user name or password");
        }

        if (authority.IsEmpty)
        {
            return Fail("url has no host");
        }

        if (!TrySplitAuthority(authority, out var hostPart, out var port, out var error))
        {
            return Fail(error);
        }

        if (!TryNormaliseHost(hostPart, out var host, out var isIPv6, out error))
        {
            return Fail(error);
        }

        var defaultPort = scheme == "https" ? 443 : 80;
        var effectivePort = port ?? defaultPort;
        if (_self.Contains((SelfKey(host), effectivePort)))
        {
            return Fail("url points back at this shortener, which would make a redirect loop");
        }

        var builder = new StringBuilder(input.Length + 16);
        builder.Append(scheme).Append("://");
        builder.Append(isIPv6 ? $"[{host}]" : host);
        if (port is { } p && p != defaultPort)
        {
            builder.Append(':').Append(p.ToString(CultureInfo.InvariantCulture));
        }

        AppendPercentEncodedNonAscii(builder, tail);
        var normalised = builder.ToString();
        if (normalised.Length > MaxBytes)
        {
            return Fail($"url is longer than {MaxBytes} bytes once non-ASCII characters are percent-encoded");
        }

        if (!Uri.TryCreate(normalised, UriKind.Absolute, out _))
        {
            return Fail("url is malformed");
        }

        return ValidationResult<string>.Ok(normalised);
    }

    private static ValidationResult<string> Fail(string message) => ValidationResult<string>.Fail(message);

    private static bool IsScheme(ReadOnlySpan<char> s)
    {
        if (!char.IsAsciiLetter(s[0]))
        {
            return false;
        }

        foreach (var c in s)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '+' or '-' or '.'))
            {
                return false;
            }
        }

        return true;
    }

    private static bool TrySplitAuthority(ReadOnlySpan<char> authority, out string host, out int? port, out string error)
    {
        port = null;
        error = string.Empty;
        ReadOnlySpan<char> portText;
        if (authority[0] == '[')
        {
            var close = authority.IndexOf(']');
            if (close < 0)
            {
                host = string.Empty;
                error = "url has an unterminated IPv6 address";
                return false;
            }

            host = authority[..(close + 1)].ToString();
            var after = authority[(close + 1)..];
            if (!after.IsEmpty && after[0] != ':')
            {
                error = "url has characters after the IPv6 address";
                return false;
            }

            portText = after.IsEmpty ? ReadOnlySpan<char>.Empty : after[1..];
        }
        else
        {
            var c = authority.LastIndexOf(':');
            host = (c < 0 ? authority : authority[..c]).ToString();
            portText = c < 0 ? ReadOnlySpan<char>.Empty : authority[(c + 1)..];
        }

        if (portText.IsEmpty)
        {
            return true;
        }

        foreach (var ch in portText)
        {
            if (!char.IsAsciiDigit(ch))
            {
                error = $"url has an invalid port '{portText}'";
                return false;
            }
        }

        if (portText.Length > 5 || !int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value is < 1 or > 65535)
        {
            error = $"url port must be 1 to 65535, got '{portText}'";
            return false;
        }

        port = value;
        return true;
    }

    private static bool TryNormaliseHost(string hostPart, out string host, out bool isIPv6, out string error)
    {
        host = string.Empty;
        error = string.Empty;
        isIPv6 = false;
        if (hostPart.Length == 0)
        {
            error = "url has no host";
            return false;
        }

        if (hostPart[0] == '[')
        {
            var inner = hostPart[1..^1];
            if (!IPAddress.TryParse(inner, out var v6) || v6.AddressFamily != AddressFamily.InterNetworkV6 || inner.Contains('%'))
            {
                error = $"url has an invalid IPv6 address '{hostPart}'";
                return false;
            }

            host = v6.ToString();
            isIPv6 = true;
            return true;
        }

        if (hostPart.Contains('%'))
        {
            error = "url host must not be percent-encoded";
            return false;
        }

        var name = hostPart.EndsWith('.') ? hostPart[..^1] : hostPart;
        if (name.Length == 0 || name.Contains(".."))
        {
            error = $"url has an invalid host '{hostPart}'";
            return false;
        }

        var lastLabel = name[(name.LastIndexOf('.') + 1)..];
        if (lastLabel.All(char.IsAsciiDigit))
        {
            // Numeric last label: only a dotted-quad IPv4 address is a real host; forms such as
            // 2130706433 or 127.1 are ways of hiding an address and are refused.
            var parts = name.Split('.');
            if (parts.Length == 4 && parts.All(p => p.Length is >= 1 and <= 3 && p.All(char.IsAsciiDigit) && int.Parse(p, CultureInfo.InvariantCulture) <= 255 && (p.Length == 1 || p[0] != '0')))
            {
                host = name;
                return true;
            }

            error = $"url has an invalid IPv4 address '{hostPart}'";
            return false;
        }

        try
        {
            host = NormaliseHost(Idn.GetAscii(name));
        }
        catch (ArgumentException)
        {
            error = $"url has an invalid host name '{hostPart}'";
            return false;
        }

        if (host.Length > 253)
        {
            error = "url host name is longer than 253 characters";
            return false;
        }

        foreach (var label in host.Split('.'))
        {
            // Letters, digits, '-' and '_'; no label starts or ends with '-'.
            var ok = label.Length is >= 1 and <= 63
                && label[0] != '-' && label[^1] != '-'
                && label.All(ch => char.IsAsciiLetterLower(ch) || char.IsAsciiDigit(ch) || ch is '-' or '_');
            if (!ok)
            {
                error = $"url has an invalid host name '{hostPart}'";
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// The host as the loop check compares it: every name for this machine's loopback (127/8, ::1,
    /// localhost, and the unspecified 0.0.0.0 and ::, which connect to it) is one key, and an
    /// IPv4-mapped IPv6 address is its IPv4 address.
    /// </summary>
    private static string SelfKey(string host)
    {
        if (host == "localhost")
        {
            return "loopback";
        }

        if (IPAddress.TryParse(host, out var ip))
        {
            if (ip.IsIPv4MappedToIPv6)
            {
                ip = ip.MapToIPv4();
            }

            if (IPAddress.IsLoopback(ip) || ip.Equals(IPAddress.Any) || ip.Equals(IPAddress.IPv6Any))
            {
                return "loopback";
            }

            return ip.ToString();
        }

        return host;
    }

    private static string NormaliseHost(string host) => host.TrimEnd('.').ToLowerInvariant();

    private static void AppendPercentEncodedNonAscii(StringBuilder builder, ReadOnlySpan<char> tail)
    {
        Span<byte> utf8 = stackalloc byte[4];
        for (var i = 0; i < tail.Length; i++)
        {
            var c = tail[i];
            if (c < 0x80)
            {
                builder.Append(c);
                continue;
            }

            var length = char.IsHighSurrogate(c) && i + 1 < tail.Length
                ? Encoding.UTF8.GetBytes(tail.Slice(i++, 2), utf8)
                : Encoding.UTF8.GetBytes(tail.Slice(i, 1), utf8);
            for (var b = 0; b < length; b++)
            {
                builder.Append('%').Append(utf8[b].ToString("X2", CultureInfo.InvariantCulture));
            }
        }
    }
}
