using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;
using Shortener.Core.Links;
using Shortener.Node.Membership;

namespace Shortener.Node.Hosting;

/// <summary>
/// Where this node can be reached: the base of the short URLs it hands out, and the set of
/// addresses a target URL must not point at: this node's own (read from the server once it
/// listens, since port 0 only becomes a real port then) and every member's HTTP and peer address,
/// since a link to another node of the same cluster loops just as well (two links can redirect to
/// each other forever). The set follows the member list.
/// </summary>
public sealed class NodeAddresses(IServer server, IOptions<NodeOptions> options, MemberList members)
{
    private static readonly string[] LoopbackHosts = ["127.0.0.1", "localhost", "[::1]"];
    private readonly Lazy<(string PublicBaseUrl, IReadOnlyList<string> Own)> _resolved = new(() => Resolve(server, options.Value));
    private volatile RulesOfVersion? _rules;

    public string PublicBaseUrl => _resolved.Value.PublicBaseUrl;

    /// <summary>The authority (host and port) of <see cref="PublicBaseUrl"/>: the cluster's one domain, as Shlink's API names it.</summary>
    public string PublicAuthority => new Uri(PublicBaseUrl).Authority;

    public TargetUrlRules TargetRules
    {
        get
        {
            var topology = members.Topology;
            if (_rules is { } cached && cached.Version == topology.Version)
            {
                return cached.Rules;
            }

            var rules = new TargetUrlRules(_resolved.Value.Own.Concat(topology.Members.SelectMany(m => new[] { m.HttpUrl, m.PeerUrl })));
            _rules = new RulesOfVersion(topology.Version, rules);
            return rules;
        }
    }

    private static (string, IReadOnlyList<string>) Resolve(IServer server, NodeOptions options)
    {
        var listening = server.Features.Get<IServerAddressesFeature>()?.Addresses.ToList() ?? [];
        var self = new List<string>();
        foreach (var address in listening)
        {
            var normalised = address.Replace("://+", "://0.0.0.0", StringComparison.Ordinal).Replace("://*", "://0.0.0.0", StringComparison.Ordinal);
            if (!Uri.TryCreate(normalised, UriKind.Absolute, out var uri))
            {
                continue;
            }

            self.Add(uri.GetLeftPart(UriPartial.Authority));
            var wildcard = uri.Host is "0.0.0.0" or "[::]" or "::";
            if (wildcard || uri.IsLoopback)
            {
                self.AddRange(LoopbackHosts.Select(h => $"{uri.Scheme}://{h}:{uri.Port}"));
            }

            if (wildcard)
            {
                self.Add($"{uri.Scheme}://{Environment.MachineName}:{uri.Port}");
            }
        }

        var publicBase = options.PublicBaseUrl;
        if (string.IsNullOrWhiteSpace(publicBase))
        {
            publicBase = listening.FirstOrDefault()?.Replace("://0.0.0.0", "://localhost", StringComparison.Ordinal)
                .Replace("://[::]", "://localhost", StringComparison.Ordinal)
                .Replace("://+", "://localhost", StringComparison.Ordinal)
                .Replace("://*", "://localhost", StringComparison.Ordinal) ?? "http://localhost";
        }

        publicBase = publicBase.TrimEnd('/');
        self.Add(publicBase);
        return (publicBase, self);
    }

    private sealed record RulesOfVersion(long Version, TargetUrlRules Rules);
}
