namespace Shortener.Node.Api;

/// <summary>POST /admin/v1/cluster/nodes: the new member (id optional: the next free one).</summary>
public sealed record AddNodeRequest(ulong? Id, string Dc, string PeerUrl, string HttpUrl);

/// <summary>
/// The answer to adding or removing a member: its <paramref name="State"/> (member, leaving,
/// removed), the member list's version, the shards whose configuration still names a leaving
/// member, and for a new member the command that starts it.
/// </summary>
public sealed record MembershipResponse(ulong Id, string State, long MembersVersion, IReadOnlyList<int> Shards, string? Join);
