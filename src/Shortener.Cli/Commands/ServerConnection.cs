using System.CommandLine;
using Shortener.Cli.Client;

namespace Shortener.Cli.Commands;

/// <summary>
/// The --server and --api-key options of a command group that talks to a running node, and the
/// run loop that turns API problems into an error line and an exit code (1, or 2 for bad usage).
/// </summary>
internal sealed class ServerConnection
{
    public Option<string> Server { get; } = new("--server")
    {
        Description = "Node to talk to (default: SHORTENER_SERVER, else http://127.0.0.1:8080)",
        Recursive = true,
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("SHORTENER_SERVER") is { Length: > 0 } s ? s : "http://127.0.0.1:8080",
    };

    public Option<string?> ApiKey { get; } = new("--api-key")
    {
        Description = "API key (default: SHORTENER_API_KEY, else the api-key file in SHORTENER_DATA or ./data)",
        Recursive = true,
    };

    public Task<int> RunAsync(ParseResult parse, Func<ShortenerApiClient, TextWriter, Task> action) => RunAsync(parse, 4, action);

    /// <summary>Runs <paramref name="action"/> with a client that tries each request up to <paramref name="attempts"/> times.</summary>
    public async Task<int> RunAsync(ParseResult parse, int attempts, Func<ShortenerApiClient, TextWriter, Task> action)
    {
        var output = parse.InvocationConfiguration.Output;
        var error = parse.InvocationConfiguration.Error;
        var server = parse.GetValue(Server)!;
        if (!TryParseServer(server, out var baseAddress))
        {
            await error.WriteLineAsync($"error: --server must be an http or https URL, got '{server}'");
            return 2;
        }

        using var client = Client(baseAddress, parse, attempts);
        try
        {
            await action(client, output);
            return 0;
        }
        catch (ApiProblem problem)
        {
            await error.WriteLineAsync($"error: {problem.Message}");
            return problem.Type == "usage" ? 2 : 1;
        }
        catch (FormatException e)
        {
            await error.WriteLineAsync($"error: {e.Message}");
            return 2;
        }
    }

    /// <summary>A client for another node of the same cluster, with the same key.</summary>
    public ShortenerApiClient Client(Uri baseAddress, ParseResult parse, int attempts = 4) =>
        new(new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(15) }, ResolveApiKey(parse), attempts);

    private static bool TryParseServer(string server, out Uri baseAddress) =>
        Uri.TryCreate(server, UriKind.Absolute, out baseAddress!) && baseAddress.Scheme is "http" or "https";

    public string? ResolveApiKey(ParseResult parse)
    {
        if (parse.GetValue(ApiKey) is { Length: > 0 } key)
        {
            return key;
        }

        if (Environment.GetEnvironmentVariable("SHORTENER_API_KEY") is { Length: > 0 } fromEnvironment)
        {
            return fromEnvironment;
        }

        var dataDir = Environment.GetEnvironmentVariable("SHORTENER_DATA") is { Length: > 0 } d ? d : "./data";
        var file = Path.Combine(dataDir, "api-key");
        return File.Exists(file) ? File.ReadAllText(file).Trim() : null;
    }
}
