using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Shortener.Node.Faults;
using Shortener.Node.Hosting;
using Shortener.Node.Membership;
using Shortener.Node.Peers;
using Shortener.Node.Shards;

namespace Shortener.Cli.Commands;

/// <summary>
/// `shortener fault …`: inject faults through a node's admin API, which fans them out to every node
/// (or applies them to itself alone with --node-only). A fault with --for heals itself on every node
/// that long after it reached the node (each measures it on its own monotonic clock), even if the
/// node that was asked is cut off by then; each kind of fault keeps its own end.
/// </summary>
public static class FaultCommand
{
    private static readonly ServerConnection Connection = new();
    private static readonly Option<string?> For = new("--for") { Description = "Heal by itself after this long: 11s, 500ms, 2m (default: until `fault heal`)", Recursive = true };
    private static readonly Option<bool> NodeOnly = new("--node-only") { Description = "Apply on the --server node only instead of the whole cluster", Recursive = true };
    private static readonly Option<ulong[]> Peers = new("--peers") { Description = "Peer node ids the fault applies to (default: all)", AllowMultipleArgumentsPerToken = true };

    public static Command Create()
    {
        var fault = new Command("fault", "Inject network and process faults into a running cluster (partitions, delay, loss, pauses) and heal them")
        {
            Connection.Server, Connection.ApiKey, For, NodeOnly,
        };
        fault.Subcommands.Add(PartitionCommand());
        fault.Subcommands.Add(DelayCommand());
        fault.Subcommands.Add(LossCommand());
        fault.Subcommands.Add(PauseCommand());
        fault.Subcommands.Add(HealCommand());
        return fault;
    }

    /// <summary>Parses 11s, 500ms, 2m, 1h or a plain number of seconds.</summary>
    public static bool TryParseDuration(string text, out TimeSpan duration)
    {
        duration = default;
        var (number, scale) = text switch
        {
            _ when text.EndsWith("ms", StringComparison.Ordinal) => (text[..^2], 0.001),
            _ when text.EndsWith('s') => (text[..^1], 1.0),
            _ when text.EndsWith('m') => (text[..^1], 60.0),
            _ when text.EndsWith('h') => (text[..^1], 3600.0),
            _ => (text, 1.0),
        };
        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || value <= 0 || double.IsInfinity(value))
        {
            return false;
        }

        duration = TimeSpan.FromSeconds(value * scale);
        return true;
    }

    private static Command PartitionCommand()
    {
        var isolate = new Option<string[]>("--isolate") { Description = "Data centres (dc3) or node ids to cut off from the rest", AllowMultipleArgumentsPerToken = true };
        var direction = new Option<string>("--direction") { Description = "both, outbound (the isolated side cannot send) or inbound", DefaultValueFactory = _ => "both" };
        var command = new Command("partition", "Cut data centres or nodes off: shortener fault partition --isolate dc3 --for 11s") { isolate, direction, Peers };
        command.SetAction((parse, ct) => SendAsync(parse, new FaultSpec
        {
            Action = "partition",
            Isolate = parse.GetValue(isolate) is { Length: > 0 } i ? i : null,
            Peers = parse.GetValue(Peers) is { Length: > 0 } p ? p : null,
            Direction = parse.GetValue(direction),
        }, ct));
        return command;
    }

    private static Command DelayCommand()
    {
        var ms = new Option<int>("--ms") { Description = "Delay added to every batch sent to a peer", Required = true };
        var jitter = new Option<int>("--jitter") { Description = "Random extra delay, up to this many ms" };
        var command = new Command("delay", "Slow the peer links down") { ms, jitter, Peers };
        command.SetAction((parse, ct) => SendAsync(parse, new FaultSpec { Action = "delay", DelayMs = parse.GetValue(ms), JitterMs = parse.GetValue(jitter), Peers = Nullable(parse.GetValue(Peers)) }, ct));
        return command;
    }

    private static Command LossCommand()
    {
        var rate = new Option<double>("--rate") { Description = "Share of peer messages dropped, in (0, 1]", Required = true };
        var command = new Command("loss", "Drop a share of the messages on peer links") { rate, Peers };
        command.SetAction((parse, ct) => SendAsync(parse, new FaultSpec { Action = "loss", Rate = parse.GetValue(rate), Peers = Nullable(parse.GetValue(Peers)) }, ct));
        return command;
    }

    private static Command PauseCommand()
    {
        var command = new Command("pause", "Pause Raft processing (ticks, messages, proposals) on the --server node, or every node without --node-only");
        command.SetAction((parse, ct) => SendAsync(parse, new FaultSpec { Action = "pause" }, ct));
        return command;
    }

    private static Command HealCommand()
    {
        var command = new Command("heal", "Remove every injected fault");
        command.SetAction((parse, ct) => SendAsync(parse, new FaultSpec { Action = "heal" }, ct));
        return command;
    }

    private static IReadOnlyList<ulong>? Nullable(ulong[]? peers) => peers is { Length: > 0 } ? peers : null;

    private static async Task<int> SendAsync(ParseResult parse, FaultSpec spec, CancellationToken ct)
    {
        if (parse.GetValue(For) is { } text)
        {
            if (!TryParseDuration(text, out var duration))
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync($"error: --for must be a duration such as 11s, 500ms or 2m; got '{text}'");
                return 2;
            }

            spec = spec with { ForSeconds = duration.TotalSeconds };
        }

        spec = spec with { Scope = parse.GetValue(NodeOnly) ? "node" : "cluster" };
        return await Connection.RunAsync(parse, async (client, output) =>
        {
            var outcomes = await client.PostJsonAsync<FaultOutcome[]>("/admin/v1/faults", spec, ct) ?? [];
            foreach (var outcome in outcomes.OrderBy(o => o.Node))
            {
                await output.WriteLineAsync(outcome.Applied ? $"node {outcome.Node}: {outcome.Detail}" : $"node {outcome.Node}: NOT APPLIED ({outcome.Detail})");
            }

            if (outcomes.Any(o => !o.Applied))
            {
                throw new Client.ApiProblem(0, "partial", "some nodes could not be reached; a timed fault still heals on the nodes that have it");
            }
        });
    }
}
