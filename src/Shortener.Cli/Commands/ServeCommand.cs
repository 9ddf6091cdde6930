using System.CommandLine;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Hosting;
using Shortener.Node.Hosting;
using Shortener.Storage;

namespace Shortener.Cli.Commands;

/// <summary>`shortener serve`: one node in the foreground until Ctrl-C.</summary>
public static class ServeCommand
{
    public static Command Create()
    {
        var data = new Option<string?>("--data") { Description = "Data directory (default ./data, or SHORTENER_DATA)" };
        var urls = new Option<string?>("--urls") { Description = "Addresses to listen on, ';'-separated (default http://127.0.0.1:8080)" };
        var publicUrl = new Option<string?>("--public-url") { Description = "Base of the short URLs handed out (default: the first listening address)" };
        var command = new Command("serve", "Run a single Shortener node: the API, the redirects, /metrics and /openapi/v1.json") { data, urls, publicUrl };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var overrides = new Dictionary<string, string?>();
            if (parse.GetValue(data) is { } d)
            {
                overrides[$"{NodeOptions.Section}:DataDir"] = d;
            }

            if (parse.GetValue(urls) is { } u)
            {
                overrides["urls"] = u;
            }

            if (parse.GetValue(publicUrl) is { } p)
            {
                overrides[$"{NodeOptions.Section}:PublicBaseUrl"] = p;
            }

            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            WebApplication app;
            try
            {
                app = ShortenerNodeApp.Build(ShortenerNodeApp.CreateBuilder([], overrides));
            }
            catch (Exception e) when (e is StorageException or InvalidOperationException or IOException or UnauthorizedAccessException or Microsoft.Extensions.Options.OptionsValidationException)
            {
                await error.WriteLineAsync($"error: {e.Message}");
                return 1;
            }

            await using (app)
            {
                try
                {
                    await app.StartAsync(cancellationToken);
                }
                catch (IOException e)
                {
                    await error.WriteLineAsync($"error: cannot listen: {e.Message}");
                    return 1;
                }
                catch (OperationCanceledException)
                {
                    return 0;
                }

                await output.WriteLineAsync($"Shortener is serving on {string.Join(", ", app.Urls)}; press Ctrl-C to stop.");
                // Returns on Ctrl-C or SIGTERM (either through this token or the host's own
                // console lifetime) after the host has stopped and the store is flushed.
                await app.WaitForShutdownAsync(cancellationToken);
                await output.WriteLineAsync("Shortener stopped.");
            }

            return 0;
        });
        return command;
    }
}
