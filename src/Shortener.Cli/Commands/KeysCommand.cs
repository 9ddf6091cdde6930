using System.CommandLine;
using System.Globalization;
using Shortener.Cli.Client;
using Shortener.Node.Api;
using Shortener.Node.Security;

namespace Shortener.Cli.Commands;

/// <summary>
/// `shortener keys …`: the cluster's API keys through a node's admin API (an admin key is needed).
/// `keys create` prints the new key alone on its last line, so a script can take it with `tail -1`.
/// </summary>
public static class KeysCommand
{
    private static readonly ServerConnection Connection = new();

    public static Command Create()
    {
        var keys = new Command("keys", "Create, list and revoke the cluster's API keys (roles: admin, links, read-only)") { Connection.Server, Connection.ApiKey };
        keys.Subcommands.Add(CreateCommand());
        keys.Subcommands.Add(ListCommand());
        keys.Subcommands.Add(RevokeCommand());
        return keys;
    }

    private static Command CreateCommand()
    {
        var name = new Option<string>("--name") { Description = "What the key is for (1 to 64 characters), shown in `keys list`", Required = true };
        var role = new Option<string>("--role") { Description = "admin (everything), links (create and manage links, read stats) or read-only", Required = true };
        role.AcceptOnlyFromAmong([.. ApiKeyRoles.Names]);
        var owner = new Option<string?>("--owner") { Description = "With --role links: the key sees and changes only links made by keys of this owner" };
        var command = new Command("create", "Make a key; it is shown once, alone on the last line") { name, role, owner };

        // Not retried: a retry after a lost answer would make a second key nobody saw.
        command.SetAction((parse, ct) => Connection.RunAsync(parse, attempts: 1, async (client, output) =>
        {
            var body = new Dictionary<string, object?> { ["name"] = parse.GetValue(name), ["role"] = parse.GetValue(role), ["owner"] = parse.GetValue(owner) };
            var created = await client.PostJsonAsync<KeyView>("/admin/v1/keys", body, ct) ?? throw new ApiProblem(0, "empty", "the node sent no answer");
            await output.WriteLineAsync($"created {created.Id} ({created.Role}{(created.Owner is null ? "" : ", owner " + created.Owner)}): {created.Name}; the key is shown only now:");
            await output.WriteLineAsync(created.Key);
        }));
        return command;
    }

    private static Command ListCommand()
    {
        var command = new Command("list", "The cluster's keys (revoked ones too) and the node's bootstrap keys; never the keys themselves");
        command.SetAction((parse, ct) => Connection.RunAsync(parse, async (client, output) =>
        {
            var list = await client.GetJsonAsync<KeyListResponse>("/admin/v1/keys", ct) ?? throw new ApiProblem(0, "empty", "the node sent no answer");
            await output.WriteLineAsync($"{"ID",-17} {"ROLE",-9} {"OWNER",-12} {"CREATED",-20} {"STATE",-8} NAME");
            foreach (var key in list.Keys)
            {
                var state = key.Bootstrap ? "node" : key.RevokedAt is null ? "live" : "revoked";
                await output.WriteLineAsync($"{key.Id,-17} {key.Role,-9} {key.Owner ?? "-",-12} {Time(key.CreatedAt),-20} {state,-8} {key.Name}");
            }

            await output.WriteLineAsync($"key list version {list.Version}");
        }));
        return command;
    }

    private static Command RevokeCommand()
    {
        var id = new Argument<string>("id") { Description = "The key's id (from `keys list`)" };
        var command = new Command("revoke", "Revoke a key: every node refuses it as soon as it applies the change") { id };
        command.SetAction((parse, ct) => Connection.RunAsync(parse, async (client, output) =>
        {
            var revoked = await client.DeleteJsonAsync<KeyView>($"/admin/v1/keys/{Uri.EscapeDataString(parse.GetValue(id)!)}", ct) ?? throw new ApiProblem(0, "empty", "the node sent no answer");
            await output.WriteLineAsync($"revoked {revoked.Id} ({revoked.Role}): {revoked.Name}");
        }));
        return command;
    }

    private static string Time(long? ms) =>
        ms is { } at ? DateTimeOffset.FromUnixTimeMilliseconds(at).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) : "-";
}
