using System.Text;
using Shortener.Storage.Clicks;

namespace Shortener.Storage.Tests.Clicks;

public sealed class ClickOutboxTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static byte[] Click(int i) => Encoding.UTF8.GetBytes($"click-{i}");

    private static List<string> Texts(IEnumerable<(long Seq, byte[] Payload)> records) => records.Select(r => Encoding.UTF8.GetString(r.Payload)).ToList();

    [Fact]
    public void Flushed_clicks_survive_a_reopen_and_acknowledged_ones_do_not_come_back()
    {
        using (var outbox = ClickOutbox.Open(_dir.Path))
        {
            for (var i = 1; i <= 5; i++)
            {
                Assert.Equal(i, outbox.Append(Click(i)));
            }

            // Written at once (readable, and outliving the process), durable once flushed.
            Assert.Equal(["click-1", "click-2", "click-3", "click-4", "click-5"], Texts(outbox.Read(0, 10)));
            Assert.Equal(0, outbox.Durable);
            outbox.Flush();
            Assert.Equal(1, outbox.Syncs);
            Assert.Equal(5, outbox.Durable);
            Assert.Equal(["click-3", "click-4"], Texts(outbox.Read(2, 2)));
            outbox.Acknowledge(2);
            Assert.Equal(3, outbox.Depth);
        }

        using var reopened = ClickOutbox.Open(_dir.Path);
        Assert.Equal(2, reopened.Acknowledged);
        Assert.Equal(["click-3", "click-4", "click-5"], Texts(reopened.Read(0, 10)));
        Assert.Equal(6, reopened.Append(Click(6))); // sequences never repeat
    }

    [Fact]
    public void A_process_crash_loses_nothing_that_was_appended()
    {
        var outbox = ClickOutbox.Open(_dir.Path);
        outbox.Append(Click(1));
        outbox.Flush();
        outbox.Append(Click(2)); // never flushed: the process dies here (no Dispose, no Flush)

        using var reopened = ClickOutbox.Open(_dir.Path);
        Assert.Equal(["click-1", "click-2"], Texts(reopened.Read(0, 10)));
        Assert.Equal(2, reopened.Durable); // synced when the outbox was opened again
        Assert.Equal(3, reopened.Append(Click(3)));
    }

    [Fact]
    public void A_power_loss_loses_at_most_what_was_appended_after_the_last_flush()
    {
        using (var outbox = ClickOutbox.Open(_dir.Path))
        {
            outbox.Append(Click(1));
            outbox.Flush();
        }

        var segment = Directory.GetFiles(_dir.Path, "*.outbox").Single();
        var synced = new FileInfo(segment).Length;
        using (var outbox = ClickOutbox.Open(_dir.Path))
        {
            outbox.Append(Click(2));
        }

        // What a power loss leaves of a write the disk had not synced: part of it.
        using (var file = new FileStream(segment, FileMode.Open))
        {
            file.SetLength(synced + 9);
        }

        using var reopened = ClickOutbox.Open(_dir.Path);
        Assert.True(reopened.RepairedBytes > 0);
        Assert.Equal(["click-1"], Texts(reopened.Read(0, 10)));
    }

    [Fact]
    public void A_graceful_close_flushes_what_was_buffered()
    {
        using (var outbox = ClickOutbox.Open(_dir.Path))
        {
            outbox.Append(Click(1));
        }

        using var reopened = ClickOutbox.Open(_dir.Path);
        Assert.Equal(["click-1"], Texts(reopened.Read(0, 10)));
    }

    [Fact]
    public void A_torn_tail_of_the_last_segment_is_cut_off_and_the_rest_kept()
    {
        using (var outbox = ClickOutbox.Open(_dir.Path))
        {
            for (var i = 1; i <= 3; i++)
            {
                outbox.Append(Click(i));
            }

            outbox.Flush();
        }

        var segment = Directory.GetFiles(_dir.Path, "*.outbox").Single();
        var length = new FileInfo(segment).Length;
        using (var file = new FileStream(segment, FileMode.Open))
        {
            file.SetLength(length - 3); // the last record lost its end
        }

        using var reopened = ClickOutbox.Open(_dir.Path);
        Assert.True(reopened.RepairedBytes > 0);
        Assert.Equal(["click-1", "click-2"], Texts(reopened.Read(0, 10)));
        Assert.Equal(3, reopened.Append(Click(9))); // the lost sequence is reused: it was never durable
        reopened.Flush();
        Assert.Equal(["click-1", "click-2", "click-9"], Texts(reopened.Read(0, 10)));
    }

    [Fact]
    public void Segments_roll_over_and_are_deleted_once_acknowledged()
    {
        using var outbox = ClickOutbox.Open(_dir.Path, segmentBytes: 100);
        for (var i = 1; i <= 20; i++)
        {
            outbox.Append(Click(i));
            outbox.Flush();
        }

        Assert.True(outbox.SegmentCount >= 4, $"{outbox.SegmentCount} segments");
        var all = outbox.Read(0, 100);
        Assert.Equal(Enumerable.Range(1, 20).Select(i => $"click-{i}"), Texts(all));
        outbox.Acknowledge(15);
        Assert.True(outbox.SegmentCount <= 3, $"{outbox.SegmentCount} segments after the acknowledgement");
        Assert.Equal(Enumerable.Range(16, 5).Select(i => $"click-{i}"), Texts(outbox.Read(0, 100)));
        Assert.Equal(Directory.GetFiles(_dir.Path, "*.outbox").Length, outbox.SegmentCount);
    }

    [Fact]
    public void Damage_in_an_earlier_segment_is_refused_with_a_clear_error()
    {
        using (var outbox = ClickOutbox.Open(_dir.Path, segmentBytes: 60))
        {
            for (var i = 1; i <= 6; i++)
            {
                outbox.Append(Click(i));
                outbox.Flush();
            }
        }

        var first = Directory.GetFiles(_dir.Path, "*.outbox").Order().First();
        var bytes = File.ReadAllBytes(first);
        bytes[^2] ^= 0xFF;
        File.WriteAllBytes(first, bytes);
        var error = Assert.Throws<OutboxCorruptionException>(() => ClickOutbox.Open(_dir.Path));
        Assert.Contains(first, error.Message);
        Assert.Contains("not the last", error.Message);
    }

    [Fact]
    public async Task Concurrent_appends_and_flushes_keep_every_click_once_in_sequence_order()
    {
        using var outbox = ClickOutbox.Open(_dir.Path, segmentBytes: 4096);
        using var done = new CancellationTokenSource();
        var flusher = Task.Run(async () =>
        {
            while (!done.IsCancellationRequested)
            {
                outbox.Flush();
                await Task.Delay(1);
            }
        });
        await Task.WhenAll(Enumerable.Range(0, 4).Select(t => Task.Run(() =>
        {
            for (var i = 0; i < 1000; i++)
            {
                outbox.Append(Click((t * 1000) + i));
            }
        })));
        await done.CancelAsync();
        await flusher;
        outbox.Flush();

        var records = new List<(long Seq, byte[] Payload)>();
        while (outbox.Read(records.Count == 0 ? 0 : records[^1].Seq, 300) is { Count: > 0 } page)
        {
            records.AddRange(page);
        }

        Assert.Equal(Enumerable.Range(1, 4000).Select(i => (long)i), records.Select(r => r.Seq));
        Assert.Equal(4000, Texts(records).Distinct().Count());
        Assert.True(outbox.Syncs < 4000, $"{outbox.Syncs} fsyncs for 4,000 clicks: no group commit");
    }

    [Fact]
    public void Bad_records_and_acknowledgements_past_the_end_are_handled()
    {
        using var outbox = ClickOutbox.Open(_dir.Path);
        Assert.Throws<ArgumentException>(() => outbox.Append([]));
        outbox.Append(Click(1));
        outbox.Acknowledge(5); // nothing durable past 0 yet
        Assert.Equal(0, outbox.Acknowledged);
        outbox.Flush();
        outbox.Acknowledge(5);
        Assert.Equal(1, outbox.Acknowledged);
        Assert.Equal(0, outbox.Depth);
    }

    [Fact]
    public void A_segment_that_cannot_be_started_leaves_appends_going_into_the_full_one()
    {
        using var outbox = ClickOutbox.Open(_dir.Path, segmentBytes: 60);
        outbox.Append(Click(1));
        var segments = outbox.SegmentCount;

        // Every name a next segment could take is a directory: no segment can be started.
        for (var seq = 2; seq < 20; seq++)
        {
            Directory.CreateDirectory(Path.Combine(_dir.Path, seq.ToString("D19", System.Globalization.CultureInfo.InvariantCulture) + ".outbox"));
        }

        for (var i = 2; i <= 10; i++)
        {
            Assert.Equal(i, outbox.Append(Click(i)));
        }

        Assert.Equal(segments, outbox.SegmentCount);
        outbox.Flush();
        Assert.Equal(Enumerable.Range(1, 10).Select(i => $"click-{i}"), Texts(outbox.Read(0, 100)));
    }
}
