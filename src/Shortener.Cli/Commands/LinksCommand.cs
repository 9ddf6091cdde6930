using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Shortener.Cli.Client;
using Shortener.Node.Api;

namespace Shortener.Cli.Commands;

/// <summary>`shortener links …`: create, read, change, delete and list links on a running node.</summary>
public static class LinksCommand
{
    private static readonly JsonSerializerOptions Pretty = new(JsonSerializerOptions.Web) { WriteIndented = true };

    private static readonly ServerConnection Connection = new();

    private static readonly Option<bool> AsJson = new("--json") { Description = "Print the server's JSON instead of a summary", Recursive = true };

    public static Command Create()
    {
        var links = new Command("links", "Create, read, change, delete and list short links on a running node") { Connection.Server, Connection.ApiKey, AsJson };
        links.Subcommands.Add(CreateCommand());
        links.Subcommands.Add(GetCommand());
        links.Subcommands.Add(UpdateCommand());
        links.Subcommands.Add(DeleteCommand());
        links.Subcommands.Add(ListCommand());
        links.Subcommands.Add(StatsCommand());
        return links;
    }

    private static Command CreateCommand()
    {
        var url = new Argument<string>("url") { Description = "The http or https URL to shorten" };
        var alias = new Option<string?>("--alias") { Description = "Custom code: 3-64 of A-Z a-z 0-9 _ -" };
        var expires = new Option<string?>("--expires") { Description = "Expiry: ISO 8601 time or a duration such as 30m, 12h, 7d" };
        var maxVisits = new Option<long?>("--max-visits") { Description = "Stop redirecting after this many visits" };
        var status = new Option<int?>("--status") { Description = "Redirect status: 301, 302 (default), 307 or 308" };
        var tags = new Option<string[]>("--tag") { Description = "A tag; repeat for several", AllowMultipleArgumentsPerToken = false };
        var title = new Option<string?>("--title") { Description = "A title for the link" };
        var key = new Option<string?>("--idempotency-key") { Description = "Idempotency key (default: a new random one; retries reuse it)" };
        var command = new Command("create", "Shorten a URL") { url, alias, expires, maxVisits, status, tags, title, key };
        command.SetAction((parse, ct) => RunAsync(parse, async (client, output) =>
        {
            var body = new Dictionary<string, object?> { ["url"] = parse.GetValue(url) };
            AddIfSet(body, "alias", parse.GetValue(alias));
            if (parse.GetValue(expires) is { } e)
            {
                body["expiresAt"] = ParseExpiry(e);
            }

            AddIfSet(body, "maxVisits", parse.GetValue(maxVisits));
            AddIfSet(body, "redirectStatus", parse.GetValue(status));
            if (parse.GetValue(tags) is { Length: > 0 } t)
            {
                body["tags"] = t;
            }

            AddIfSet(body, "title", parse.GetValue(title));
            var link = await client.CreateAsync(body, parse.GetValue(key) ?? NewKey(), ct);
            await PrintLink(parse, output, link);
        }));
        return command;
    }

    private static Command GetCommand()
    {
        var code = new Argument<string>("code") { Description = "The link's code" };
        var command = new Command("get", "Show one link") { code };
        command.SetAction((parse, ct) => RunAsync(parse, async (client, output) => await PrintLink(parse, output, await client.GetAsync(parse.GetValue(code)!, ct))));
        return command;
    }

    private static Command UpdateCommand()
    {
        var code = new Argument<string>("code") { Description = "The link's code" };
        var url = new Option<string?>("--url") { Description = "New target URL" };
        var expires = new Option<string?>("--expires") { Description = "New expiry: ISO 8601 time or a duration such as 7d" };
        var noExpiry = new Option<bool>("--no-expiry") { Description = "Remove the expiry" };
        var maxVisits = new Option<long?>("--max-visits") { Description = "New visit limit" };
        var noMaxVisits = new Option<bool>("--no-max-visits") { Description = "Remove the visit limit" };
        var status = new Option<int?>("--status") { Description = "New redirect status: 301, 302, 307 or 308" };
        var tags = new Option<string[]>("--tag") { Description = "Replace the tags; repeat for several" };
        var clearTags = new Option<bool>("--clear-tags") { Description = "Remove all tags" };
        var title = new Option<string?>("--title") { Description = "New title" };
        var noTitle = new Option<bool>("--no-title") { Description = "Remove the title" };
        var command = new Command("update", "Change a link") { code, url, expires, noExpiry, maxVisits, noMaxVisits, status, tags, clearTags, title, noTitle };
        command.SetAction((parse, ct) => RunAsync(parse, async (client, output) =>
        {
            var patch = new Dictionary<string, object?>();
            AddIfSet(patch, "url", parse.GetValue(url));
            if (parse.GetValue(expires) is { } e)
            {
                patch["expiresAt"] = ParseExpiry(e);
            }
            else if (parse.GetValue(noExpiry))
            {
                patch["expiresAt"] = null;
            }

            if (parse.GetValue(maxVisits) is { } m)
            {
                patch["maxVisits"] = m;
            }
            else if (parse.GetValue(noMaxVisits))
            {
                patch["maxVisits"] = null;
            }

            AddIfSet(patch, "redirectStatus", parse.GetValue(status));
            if (parse.GetValue(tags) is { Length: > 0 } t)
            {
                patch["tags"] = t;
            }
            else if (parse.GetValue(clearTags))
            {
                patch["tags"] = Array.Empty<string>();
            }

            if (parse.GetValue(title) is { } ti)
            {
                patch["title"] = ti;
            }
            else if (parse.GetValue(noTitle))
            {
                patch["title"] = null;
            }

            if (patch.Count == 0)
            {
                throw new ApiProblem(0, "usage", "nothing to change: give at least one of --url, --expires, --no-expiry, --max-visits, --no-max-visits, --status, --tag, --clear-tags, --title, --no-title");
            }

            await PrintLink(parse, output, await client.UpdateAsync(parse.GetValue(code)!, patch, NewKey(), ct));
        }));
        return command;
    }

    private static Command DeleteCommand()
    {
        var code = new Argument<string>("code") { Description = "The link's code" };
        var command = new Command("delete", "Delete a link (its code then answers 410 Gone)") { code };
        command.SetAction((parse, ct) => RunAsync(parse, async (client, output) =>
        {
            await client.DeleteAsync(parse.GetValue(code)!, NewKey(), ct);
            await output.WriteLineAsync($"deleted {parse.GetValue(code)}");
        }));
        return command;
    }

    private static Command ListCommand()
    {
        var limit = new Option<int>("--limit") { Description = "Links per page (1-1000)", DefaultValueFactory = _ => 50 };
        var tag = new Option<string?>("--tag") { Description = "Only links with this tag" };
        var cursor = new Option<string?>("--cursor") { Description = "Start after this cursor (from a previous page)" };
        var all = new Option<bool>("--all") { Description = "Follow cursors to the last page" };
        var command = new Command("list", "List live links, newest first") { limit, tag, cursor, all };
        command.SetAction((parse, ct) => RunAsync(parse, async (client, output) =>
        {
            var next = parse.GetValue(cursor);
            do
            {
                var page = await client.ListAsync(parse.GetValue(limit), parse.GetValue(tag), next, ct);
                if (parse.GetValue(AsJson))
                {
                    await output.WriteLineAsync(JsonSerializer.Serialize(page, Pretty));
                }
                else
                {
                    foreach (var link in page.Items)
                    {
                        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{link.Code,-12} {link.Status,-9} {link.CreatedAt:yyyy-MM-dd HH:mm} {link.Url}"));
                    }
                }

                next = page.NextCursor;
                if (next is not null && !parse.GetValue(all) && !parse.GetValue(AsJson))
                {
                    await output.WriteLineAsync($"more: shortener links list --cursor {next}");
                }
            }
            while (next is not null && parse.GetValue(all));
        }));
        return command;
    }

    private static Command StatsCommand()
    {
        var code = new Argument<string>("code") { Description = "The link's code" };
        var from = new Option<string?>("--from") { Description = "First UTC day, YYYY-MM-DD (default: 29 days before --to)" };
        var to = new Option<string?>("--to") { Description = "Last UTC day, YYYY-MM-DD (default: today)" };
        var consistency = new Option<string?>("--consistency") { Description = "How many replicas of the click store must answer: one, quorum (the node's default), all or local-quorum" };
        var command = new Command("stats", "A link's clicks: total, humans and bots apart, per day, and its top referrers") { code, from, to, consistency };
        command.SetAction((parse, ct) => RunAsync(parse, async (client, output) =>
        {
            var stats = await client.StatsAsync(parse.GetValue(code)!, parse.GetValue(from), parse.GetValue(to), parse.GetValue(consistency), ct);
            if (parse.GetValue(AsJson))
            {
                await output.WriteLineAsync(JsonSerializer.Serialize(stats, Pretty));
                return;
            }

            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{stats.Code}: {stats.Total:N0} clicks from {stats.From} to {stats.To} ({stats.NonBot:N0} human, {stats.Bots:N0} bots; read at {stats.Consistency}{(stats.Repaired ? ", replicas repaired" : "")})"));
            var max = Math.Max(1, stats.Days.Max(d => d.Total));
            foreach (var day in stats.Days.Where(d => d.Total > 0))
            {
                var bar = new string('#', (int)Math.Ceiling(30.0 * day.Total / max));
                await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  {day.Date}  {day.Total,8:N0}  {bar}"));
            }

            if (stats.TopReferrers.Count > 0)
            {
                await output.WriteLineAsync("  top referrers: " + string.Join(", ", stats.TopReferrers.Select(r => string.Create(CultureInfo.InvariantCulture, $"{r.Referrer} {r.Clicks:N0}"))));
            }
        }));
        return command;
    }

    private static Task<int> RunAsync(ParseResult parse, Func<ShortenerApiClient, TextWriter, Task> action) => Connection.RunAsync(parse, action);

    private static async Task PrintLink(ParseResult parse, TextWriter output, LinkResponse link)
    {
        if (parse.GetValue(AsJson))
        {
            await output.WriteLineAsync(JsonSerializer.Serialize(link, Pretty));
            return;
        }

        await output.WriteLineAsync($"{link.ShortUrl} -> {link.Url}");
        var details = new List<string> { $"status {link.Status}", $"redirect {link.RedirectStatus}" };
        if (link.ExpiresAt is { } e)
        {
            details.Add(string.Create(CultureInfo.InvariantCulture, $"expires {e:u}"));
        }

        if (link.MaxVisits is { } m)
        {
            details.Add($"visits {link.Visits}/{m}");
        }

        if (link.Tags.Count > 0)
        {
            details.Add("tags " + string.Join(",", link.Tags));
        }

        if (link.Title is { } t)
        {
            details.Add($"title \"{t}\"");
        }

        await output.WriteLineAsync("  " + string.Join("; ", details));
    }

    private static DateTimeOffset ParseExpiry(string text) =>
        ExpiryParser.TryParse(text, DateTimeOffset.UtcNow, out var at)
            ? at
            : throw new FormatException($"--expires must be an ISO 8601 time (2030-01-31T12:00:00Z) or a duration such as 30m, 12h, 7d; got '{text}'");

    private static void AddIfSet<T>(Dictionary<string, object?> body, string name, T? value)
    {
        if (value is not null)
        {
            body[name] = value;
        }
    }

    private static string NewKey() => "cli-" + Guid.NewGuid().ToString("N");
}
