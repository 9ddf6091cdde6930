using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;

namespace Shortener.Node.Tests.Shards;

/// <summary>A node's snapshots go through its snapshot worker: captured, written in the background, and a restart starts from them.</summary>
public sealed partial class SnapshotWorkerTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new();
    private readonly Dictionary<string, string?> _settings = new()
    {
        ["Shortener:Cluster:Shards"] = "1",
        ["Shortener:Cluster:SnapshotEntries"] = "20",
        ["Shortener:Cluster:SnapshotKeepEntries"] = "5",
    };

    private TestNode _node = null!;

    public async Task InitializeAsync() => _node = await TestNode.StartAsync(_dir.Path, _settings);

    public async Task DisposeAsync()
    {
        await _node.DisposeAsync();
        _dir.Dispose();
    }

    [Fact]
    public async Task Snapshots_are_captured_and_written_by_the_worker_and_a_restart_starts_from_them()
    {
        for (var i = 0; i < 50; i++)
        {
            Assert.Equal(HttpStatusCode.Created, (await _node.Client.PostAsJsonAsync("/api/v1/links", new { url = $"https://example.com/{i}", alias = $"snap-{i}" })).StatusCode);
        }

        // A capture and a file for each snapshot taken: at least two snapshots in 50 entries.
        var deadline = DateTime.UtcNow.AddSeconds(20);
        long done;
        do
        {
            await Task.Delay(100);
            // Most of a snapshot's work done, by this node's worker (0 until the metric first shows).
            done = Done().Matches(await _node.Anonymous.GetStringAsync("/metrics")).Select(m => long.Parse(m.Groups[1].Value)).DefaultIfEmpty(0).Max();
        }
        while (done < 4 && DateTime.UtcNow < deadline);

        Assert.True(done >= 4, $"{done} pieces of snapshot work done");
        var files = Directory.GetFiles(Path.Combine(_dir.Path, "shards", "000", "raft", "snap"), "*.snap");
        Assert.InRange(files.Length, 1, 2);

        await _node.DisposeAsync();
        _node = await TestNode.StartAsync(_dir.Path, _settings);
        for (var i = 0; i < 50; i += 7)
        {
            Assert.Equal(HttpStatusCode.OK, (await _node.Client.GetAsync($"/api/v1/links/snap-{i}")).StatusCode);
        }
    }

    [GeneratedRegex(@"shortener_snapshot_work_done_total\{[^}]*\} (\d+)")]
    private static partial Regex Done();
}
