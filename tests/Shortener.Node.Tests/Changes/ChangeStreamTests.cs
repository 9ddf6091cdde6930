using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace Shortener.Node.Tests.Changes;

/// <summary>GET /api/v1/changes as Server-Sent Events: live, resumable with Last-Event-ID, and from a snapshot with no gap and no repeat.</summary>
public sealed class ChangeStreamTests : NodeTest
{
    private sealed record SseEvent(string? Name, string? Id, JsonElement Data);

    /// <summary>An open stream, read event by event.</summary>
    private sealed class Stream(HttpResponseMessage response, StreamReader reader) : IAsyncDisposable
    {
        public HttpResponseMessage Response => response;

        public async Task<SseEvent> NextAsync()
        {
            string? name = null, id = null, data = null;
            while (true)
            {
                var line = await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(20)) ?? throw new EndOfStreamException();
                if (line.Length == 0)
                {
                    if (data is not null)
                    {
                        return new SseEvent(name, id, JsonDocument.Parse(data).RootElement.Clone());
                    }

                    continue;
                }

                if (line.StartsWith(':'))
                {
                    continue;
                }

                var colon = line.IndexOf(':');
                var (field, value) = (line[..colon], line[(colon + 1)..].TrimStart(' '));
                switch (field)
                {
                    case "event": name = value; break;
                    case "id": id = value; break;
                    case "data": data = value; break;
                }
            }
        }

        public async ValueTask DisposeAsync()
        {
            reader.Dispose();
            response.Dispose();
            await Task.CompletedTask;
        }
    }

    private async Task<Stream> OpenAsync(string query, string? lastEventId = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/changes" + query);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        if (lastEventId is not null)
        {
            request.Headers.Add("Last-Event-ID", lastEventId);
        }

        var response = await Node.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        return new Stream(response, new StreamReader(await response.Content.ReadAsStreamAsync()));
    }

    private async Task CreateAsync(string code) =>
        Assert.Equal(HttpStatusCode.Created, (await Node.Client.PostAsJsonAsync("/api/v1/links", new { url = "https://example.com/" + code, alias = code })).StatusCode);

    [Fact]
    public async Task Changes_arrive_as_they_happen_and_a_reconnect_with_last_event_id_resumes_exactly_there()
    {
        string lastId;
        await using (var stream = await OpenAsync(string.Empty))
        {
            foreach (var code in new[] { "live-a", "live-b", "live-c" })
            {
                await CreateAsync(code);
            }

            var events = new List<SseEvent>();
            for (var i = 0; i < 3; i++)
            {
                events.Add(await stream.NextAsync());
            }

            Assert.Equal(["live-a", "live-b", "live-c"], events.Select(e => e.Data.GetProperty("subject").GetString()).Order());
            Assert.All(events, e => Assert.NotNull(e.Id));
            lastId = events[^1].Id!;
        }

        await CreateAsync("live-d");
        await Node.Client.DeleteAsync("/api/v1/links/live-a");
        await using var resumed = await OpenAsync(string.Empty, lastEventId: lastId);
        var first = await resumed.NextAsync();
        var second = await resumed.NextAsync();
        Assert.Equal(new (string?, string?)[] { ("live-a", "d"), ("live-d", "c") }, new[] { first, second }.Select(e => (e.Data.GetProperty("subject").GetString(), e.Data.GetProperty("data").GetProperty("op").GetString())).Order());
    }

    [Fact]
    public async Task A_snapshot_shows_every_live_link_once_then_the_changes_after_it_with_no_gap_and_no_repeat_though_writes_go_on()
    {
        foreach (var code in new[] { "snap-a", "snap-b", "snap-c" })
        {
            await CreateAsync(code);
        }

        await Node.Client.DeleteAsync("/api/v1/links/snap-b");

        // Writes go on while the snapshot is taken and streamed.
        var writer = Task.Run(async () =>
        {
            for (var i = 0; i < 40; i++)
            {
                await CreateAsync($"during-{i}");
            }
        });
        await using var stream = await OpenAsync("?snapshot=initial");
        var reads = new List<string>();
        SseEvent next;
        while ((next = await stream.NextAsync()).Name != "snapshot")
        {
            Assert.Equal("r", next.Data.GetProperty("data").GetProperty("op").GetString());
            Assert.Null(next.Id);
            reads.Add(next.Data.GetProperty("subject").GetString()!);
        }

        Assert.NotNull(next.Id);
        Assert.Equal(reads.Count, next.Data.GetProperty("links").GetInt32());
        Assert.Contains("snap-a", reads);
        Assert.DoesNotContain("snap-b", reads);
        await writer;

        // Every "during" link is either in the snapshot or created after it: exactly once.
        var created = new List<string>();
        while (reads.Count(r => r.StartsWith("during-")) + created.Count < 40)
        {
            var change = await stream.NextAsync();
            Assert.Equal("c", change.Data.GetProperty("data").GetProperty("op").GetString());
            created.Add(change.Data.GetProperty("subject").GetString()!);
        }

        var during = reads.Where(r => r.StartsWith("during-")).Concat(created).ToList();
        Assert.Equal(Enumerable.Range(0, 40).Select(i => $"during-{i}").Order(), during.Order());
    }
}
