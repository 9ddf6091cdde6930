using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Shortener.Core.Cluster;
using Shortener.Node.Membership;
using Shortener.Node.Peers;
using Shortener.Node.Peers.Protocol;

namespace Shortener.Node.Faults;

/// <summary>
/// Turns fault specs into this node's <see cref="FaultState"/>, and fans cluster-wide faults out: it
/// works out what each node must drop (for an isolated data centre: everything across the cut) and
/// tells every node over the peer protocol, each with the fault's duration, which every node
/// measures from the fault's arrival on its own monotonic clock: the fault heals on time everywhere
/// even if this node is cut off or dies, and no node's wall clock moves its end. Each kind of fault
/// keeps its own end: a later fault of another kind changes no earlier one's.
/// </summary>
public sealed class FaultInjector(MemberList members, IPeerTransport peers, NetworkFaults faults, ILogger<FaultInjector> logger)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Parses and checks a spec; the error is a sentence for a 400/422 answer.</summary>
    public static (FaultSpec? Spec, string? Error) Parse(string json)
    {
        FaultSpec? spec;
        try
        {
            spec = JsonSerializer.Deserialize<FaultSpec>(json, Api.JsonBody.Strict);
        }
        catch (JsonException e)
        {
            return (null, $"the fault is not valid: {Api.JsonBody.Describe(e)}");
        }

        if (spec is null)
        {
            return (null, "the fault is empty");
        }

        string? error = spec.Action switch
        {
            "partition" when (spec.Isolate?.Count ?? 0) == 0 && (spec.Peers?.Count ?? 0) == 0 => "a partition needs 'isolate' (data centres or node ids) or 'peers'",
            "partition" when spec.Direction is not (null or "both" or "outbound" or "inbound") => "direction must be both, outbound or inbound",
            "delay" when spec.DelayMs is not > 0 || spec.DelayMs > 60_000 || spec.JitterMs is < 0 or > 60_000 => "a delay needs delayMs from 1 to 60000 (and jitterMs from 0 to 60000)",
            "loss" when spec.Rate is not (> 0 and <= 1) => "a loss needs rate in (0, 1]",
            "partition" or "delay" or "loss" or "pause" or "heal" => null,
            _ => $"unknown action '{spec.Action}': use partition, delay, loss, pause or heal",
        };
        if (error is null && spec.ForSeconds is <= 0 or > 86_400)
        {
            error = "forSeconds must be between 0 and 86400";
        }

        if (error is null && spec.Scope is not (null or "cluster" or "node"))
        {
            error = "scope must be cluster or node";
        }

        return error is null ? (spec, null) : (null, error);
    }

    /// <summary>Applies a node-scoped fault here; returns this node's fault state as JSON.</summary>
    public Task<string> ApplyLocalAsync(string json)
    {
        var (spec, error) = Parse(json);
        if (spec is null)
        {
            throw new ArgumentException(error);
        }

        Apply(spec);
        return Task.FromResult(FaultStateText());
    }

    /// <summary>
    /// Applies <paramref name="spec"/> on every node (or only here when its scope is node). Returns
    /// what each node answered; nodes that could not be reached are listed with the error.
    /// </summary>
    public async Task<IReadOnlyList<FaultOutcome>> ApplyAsync(FaultSpec spec, CancellationToken cancellationToken)
    {
        if (spec.Scope == "node" || (spec.Isolate is null && spec.Action == "partition"))
        {
            Apply(spec with { Scope = "node" });
            return [new FaultOutcome(members.Self, true, FaultStateText())];
        }

        var topology = members.Topology;
        var tasks = topology.Members.Select(async member =>
        {
            var local = ForNode(topology, spec, member.Id);
            if (member.Id == members.Self)
            {
                Apply(local);
                return new FaultOutcome(member.Id, true, FaultStateText());
            }

            try
            {
                var reply = await peers.InjectFaultAsync(member.Id, new FaultRequest { Json = JsonSerializer.Serialize(local, Json) }, TimeSpan.FromSeconds(5), cancellationToken).ConfigureAwait(false);
                return new FaultOutcome(member.Id, true, reply.Json);
            }
            catch (Exception e) when (e is Grpc.Core.RpcException or OperationCanceledException or HttpRequestException)
            {
                logger.LogWarning("Could not hand fault '{Action}' to node {Node}: {Error}", spec.Action, member.Id, e.Message);
                return new FaultOutcome(member.Id, false, e.Message);
            }
        });
        return await Task.WhenAll(tasks).ConfigureAwait(false);
    }

    /// <summary>What <paramref name="node"/> must do for a cluster-wide spec: for an isolation, drop traffic across the cut.</summary>
    internal static FaultSpec ForNode(ClusterTopology topology, FaultSpec spec, ulong node)
    {
        if (spec.Action != "partition" || spec.Isolate is not { Count: > 0 } isolate)
        {
            return spec with { Scope = "node" };
        }

        var isolated = topology.Members
            .Where(m => isolate.Contains(m.Dc, StringComparer.OrdinalIgnoreCase) || isolate.Contains(m.Id.ToString(CultureInfo.InvariantCulture)))
            .Select(m => m.Id)
            .ToHashSet();
        var inside = isolated.Contains(node);
        var across = topology.Members.Select(m => m.Id).Where(id => isolated.Contains(id) != inside).ToArray();

        // Direction is given from the isolated side: "outbound" drops what it sends, which the others see as inbound.
        var direction = spec.Direction ?? "both";
        if (!inside && direction != "both")
        {
            direction = direction == "outbound" ? "inbound" : "outbound";
        }

        return spec with { Scope = "node", Isolate = null, Peers = across, Direction = direction };
    }

    private void Apply(FaultSpec spec)
    {
        var now = faults.NowMs;
        faults.Update(current => current.With(spec, now));
    }

    private string FaultStateText() => faults.Current().Describe(faults.NowMs);
}
