using Shortener.Core;
using Shortener.Simulation.Disk;

namespace Shortener.Simulation.Tests;

/// <summary>The simulated disk keeps POSIX's promises and no more: synced bytes and synced names survive a power loss; the rest may not.</summary>
public class SimFileSystemTests
{
    [Fact]
    public void A_power_loss_keeps_what_was_synced_and_loses_the_rest()
    {
        var fs = new SimFileSystem();
        fs.CreateDirectory("/d");
        using (var file = fs.Create("/d/a.log"))
        {
            file.Write([1, 2, 3]);
            file.Sync();
            file.Write([4, 5]);
        }

        fs.SyncDirectory("/d");
        Assert.Equal([1, 2, 3, 4, 5], fs.ReadAll("/d/a.log"));
        fs.Crash(new SeededRandom(1), tornWrites: false);
        Assert.Equal([1, 2, 3], fs.ReadAll("/d/a.log"));
    }

    [Fact]
    public void A_name_survives_only_once_its_directory_is_synced()
    {
        var fs = new SimFileSystem();
        fs.CreateDirectory("/d");
        using (var file = fs.Create("/d/kept"))
        {
            file.Sync();
        }

        fs.SyncDirectory("/d");
        using (var file = fs.Create("/d/lost"))
        {
            file.Sync();
        }

        fs.Move("/d/kept", "/d/renamed");
        fs.Crash(new SeededRandom(1), tornWrites: false);
        Assert.Equal(["/d/kept"], fs.Files("/d", ""));
    }

    [Fact]
    public void A_torn_write_keeps_a_prefix_of_the_unsynced_tail_and_may_flip_a_bit_in_it_only()
    {
        var synced = Enumerable.Range(0, 64).Select(i => (byte)i).ToArray();
        var tail = Enumerable.Repeat((byte)0xAA, 64).ToArray();
        var sawTorn = false;
        var sawFlip = false;
        for (ulong seed = 1; seed <= 200; seed++)
        {
            var fs = new SimFileSystem();
            fs.CreateDirectory("/d");
            using (var file = fs.Create("/d/f"))
            {
                file.Write(synced);
                file.Sync();
                file.Write(tail);
            }

            fs.SyncDirectory("/d");
            fs.Crash(new SeededRandom(seed), tornWrites: true);
            var after = fs.ReadAll("/d/f");
            Assert.InRange(after.Length, synced.Length, synced.Length + tail.Length);
            Assert.Equal(synced, after[..synced.Length]);
            var kept = after[synced.Length..];
            sawTorn |= kept.Length is > 0 and < 64;
            sawFlip |= kept.Any(b => b != 0xAA);
            Assert.True(kept.Count(b => b != 0xAA) <= 1);
        }

        Assert.True(sawTorn && sawFlip, "200 power losses should tear some tails and flip some bits");
    }

    [Fact]
    public void A_handle_from_before_a_crash_refuses_to_write()
    {
        var fs = new SimFileSystem();
        fs.CreateDirectory("/d");
        var file = fs.Create("/d/f");
        fs.SyncDirectory("/d");
        fs.Crash(new SeededRandom(1), tornWrites: false);
        Assert.Throws<IOException>(() => file.Write([1]));
    }
}
