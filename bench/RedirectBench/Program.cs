using System.Collections.Frozen;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

// Two jobs for bench/redirect.sh:
//   seed  SERVER KEY COUNT CODES_FILE   create COUNT links through the API, write their codes and targets
//   bare  URL CODES_FILE                the baseline: a bare Kestrel endpoint answering 302 from a dictionary
return args switch
{
    ["seed", var server, var key, var count, var file] => await SeedAsync(server, key, int.Parse(count, System.Globalization.CultureInfo.InvariantCulture), file),
    ["bare", var url, var file] => await BareAsync(url, file),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: RedirectBench seed SERVER KEY COUNT CODES_FILE | bare URL CODES_FILE");
    return 2;
}

static async Task<int> SeedAsync(string server, string key, int count, string file)
{
    using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64 }) { BaseAddress = new Uri(server) };
    http.DefaultRequestHeaders.Add("X-Api-Key", key);
    var results = new (string Code, string Url)[count];
    var next = -1;
    var clock = Stopwatch.StartNew();
    var workers = Enumerable.Range(0, 64).Select(async _ =>
    {
        int i;
        while ((i = Interlocked.Increment(ref next)) < count)
        {
            var url = $"https://example.com/bench/{i}?ref=redirect-benchmark";
            for (var attempt = 1; ; attempt++)
            {
                var response = await http.PostAsJsonAsync("/api/v1/links", new { url });
                if (response.IsSuccessStatusCode)
                {
                    var body = await response.Content.ReadFromJsonAsync<JsonElement>();
                    results[i] = (body.GetProperty("code").GetString()!, url);
                    break;
                }

                if (attempt == 5)
                {
                    throw new InvalidOperationException($"create failed: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                }

                await Task.Delay(100 * attempt);
            }

            if (i > 0 && i % 20_000 == 0)
            {
                Console.Error.WriteLine($"  seeded {i} links ({i / clock.Elapsed.TotalSeconds:F0}/s)");
            }
        }
    });
    await Task.WhenAll(workers);
    await File.WriteAllLinesAsync(file, results.Select(r => $"{r.Code} {r.Url}"));
    Console.Error.WriteLine($"  seeded {count} links in {clock.Elapsed.TotalSeconds:F1} s ({count / clock.Elapsed.TotalSeconds:F0}/s)");
    return 0;
}

static async Task<int> BareAsync(string url, string file)
{
    var links = File.ReadLines(file)
        .Select(line => line.Split(' ', 2))
        .ToFrozenDictionary(parts => parts[0], parts => parts[1], StringComparer.Ordinal);
    var builder = WebApplication.CreateSlimBuilder();
    builder.Logging.ClearProviders();
    builder.WebHost.UseUrls(url);
    var app = builder.Build();
    app.MapGet("/{code}", (RequestDelegate)(context =>
    {
        if (context.Request.RouteValues["code"] is string code && links.TryGetValue(code, out var target))
        {
            context.Response.StatusCode = StatusCodes.Status302Found;
            context.Response.Headers.Location = target;
        }
        else
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
        }

        return Task.CompletedTask;
    }));
    await app.RunAsync();
    return 0;
}
