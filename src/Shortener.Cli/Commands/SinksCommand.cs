using System.CommandLine;
using System.Globalization;
using Shortener.Cli.Client;
using Shortener.Node.Api;
using Shortener.Node.Sinks;

namespace Shortener.Cli.Commands;

/// <summary>`shortener sinks …`: the cluster's change-data-capture sinks through a node's admin API (docs/cdc.md).</summary>
public static class SinksCommand
{
    private static readonly ServerConnection Connection = new();

    public static Command Create()
    {
        var sinks = new Command("sinks", "Add, list and remove the sinks every link change is delivered to (Redis streams, webhooks), and see their lag") { Connection.Server, Connection.ApiKey };
        sinks.Subcommands.Add(AddCommand());
        sinks.Subcommands.Add(ListCommand());
        sinks.Subcommands.Add(RemoveCommand());
        sinks.Subcommands.Add(StatusCommand());
        return sinks;
    }

    private static Command AddCommand()
    {
        var kind = new Argument<string>("kind") { Description = "redis or webhook" };
        kind.AcceptOnlyFromAmong("redis", "webhook");
        var url = new Option<string>("--url") { Description = "redis://host:port[/db], or the webhook's https:// URL (http:// only on loopback)", Required = true };
        var name = new Option<string?>("--name") { Description = "The sink's name (lowercase letters, digits, '-'); the kind when left out" };
        var stream = new Option<string?>("--stream") { Description = $"Redis: the stream to append to (default {SinkDefinition.DefaultStream})" };
        var topic = new Option<string?>("--topic") { Description = "What it carries: links (the link change events)" };
        var secret = new Option<string?>("--secret") { Description = "Webhook: the HMAC-SHA256 signing secret (16+ characters); one is made and shown when left out" };
        var from = new Option<string?>("--from") { Description = "now (the default: the changes made from now on) or oldest (every change still kept, the last 24 hours, first)" };
        from.AcceptOnlyFromAmong([.. SinkDefinition.Starts]);
        var command = new Command("add", "Add a sink; the node checks it can reach it first") { kind, url, name, stream, topic, secret, from };

        // Not retried: a lost answer to a sink that was added is a 409 on the retry, which would mislead.
        command.SetAction((parse, ct) => Connection.RunAsync(parse, attempts: 1, async (client, output) =>
        {
            var body = new Dictionary<string, object?>
            {
                ["name"] = parse.GetValue(name) ?? parse.GetValue(kind),
                ["kind"] = parse.GetValue(kind),
                ["url"] = parse.GetValue(url),
                ["stream"] = parse.GetValue(stream),
                ["topic"] = parse.GetValue(topic),
                ["secret"] = parse.GetValue(secret),
                ["from"] = parse.GetValue(from),
            };
            var added = await client.PostJsonAsync<SinkDefinition>("/admin/v1/sinks", body, ct) ?? throw new ApiProblem(0, "empty", "the node sent no answer");
            await output.WriteLineAsync($"added sink {added.Name} ({Kind(added)}) -> {Target(added)}");
            if (added.Secret is { } signing)
            {
                await output.WriteLineAsync("its signing secret (give it to the receiver; it is shown only now):");
                await output.WriteLineAsync(signing);
            }
        }));
        return command;
    }

    private static Command ListCommand()
    {
        var command = new Command("list", "The cluster's sinks");
        command.SetAction((parse, ct) => Connection.RunAsync(parse, async (client, output) =>
        {
            var list = await client.GetJsonAsync<SinkListResponse>("/admin/v1/sinks", ct) ?? throw new ApiProblem(0, "empty", "the node sent no answer");
            await output.WriteLineAsync($"{"NAME",-20} {"KIND",-8} {"TOPIC",-6} {"ADDED",-20} TARGET");
            foreach (var sink in list.Sinks)
            {
                var added = DateTimeOffset.FromUnixTimeMilliseconds(sink.CreatedAt).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
                await output.WriteLineAsync($"{sink.Name,-20} {Kind(sink),-8} {sink.Topic,-6} {added,-20} {Target(sink)}");
            }

            await output.WriteLineAsync($"sink list version {list.Version}");
        }));
        return command;
    }

    private static Command RemoveCommand()
    {
        var name = new Argument<string>("name") { Description = "The sink's name (from `sinks list`)" };
        var command = new Command("remove", "Remove a sink: its deliverers stop on every node") { name };
        command.SetAction((parse, ct) => Connection.RunAsync(parse, async (client, output) =>
        {
            var removed = await client.DeleteJsonAsync<SinkDefinition>($"/admin/v1/sinks/{Uri.EscapeDataString(parse.GetValue(name)!)}", ct) ?? throw new ApiProblem(0, "empty", "the node sent no answer");
            await output.WriteLineAsync($"removed sink {removed.Name} ({Kind(removed)}) -> {Target(removed)}");
        }));
        return command;
    }

    private static Command StatusCommand()
    {
        var name = new Argument<string?>("name") { Description = "One sink (all when left out)", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("status", "Each sink's delivery per shard: the node delivering, its fencing token, the offset delivered through, lag and dead letters") { name };
        command.SetAction((parse, ct) => Connection.RunAsync(parse, async (client, output) =>
        {
            var path = parse.GetValue(name) is { } one ? $"/admin/v1/sinks/{Uri.EscapeDataString(one)}/status" : "/admin/v1/sinks/status";
            var sinks = await client.GetJsonAsync<List<SinkStatus>>(path, ct) ?? throw new ApiProblem(0, "empty", "the node sent no answer");
            foreach (var sink in sinks)
            {
                await output.WriteLineAsync($"sink {sink.Sink.Name} ({Kind(sink.Sink)}) -> {Target(sink.Sink)}: lag {sink.LagEvents} events, oldest undelivered {sink.LagMs} ms");
                await output.WriteLineAsync($"  {"SHARD",5} {"NODE",4} {"TOKEN",10} {"DELIVERED THROUGH",-24} {"LAG",7} {"LAG MS",8} DEAD");
                foreach (var shard in sink.Shards)
                {
                    var holder = shard.Holder == 0 ? "-" : shard.Holder.ToString(CultureInfo.InvariantCulture);
                    await output.WriteLineAsync($"  {shard.Shard,5} {holder,4} {shard.Token,10} {shard.DeliveredThrough ?? "-",-24} {shard.LagEvents,7} {shard.LagMs,8} {shard.DeadLetters}");
                }

                foreach (var letter in sink.Shards.SelectMany(s => s.RecentDeadLetters))
                {
                    await output.WriteLineAsync($"  dead letter: {letter.Count} events {letter.FromId} .. {letter.ToId}: {letter.Error}");
                }
            }

            if (sinks.Count == 0)
            {
                await output.WriteLineAsync("no sinks (shortener sinks add redis --url redis://127.0.0.1:6379)");
            }
        }));
        return command;
    }

    private static string Kind(SinkDefinition sink) => sink.Kind.ToString().ToLowerInvariant();

    private static string Target(SinkDefinition sink) => sink.Stream is { } stream ? $"{sink.Url} stream {stream}" : sink.Url;
}
