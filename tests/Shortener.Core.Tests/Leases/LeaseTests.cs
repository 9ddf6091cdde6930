using Shortener.Core.Leases;
using Shortener.Core.Links;

namespace Shortener.Core.Tests.Leases;

public class LeaseTests
{
    private readonly InMemoryLinkTable _table = new();

    private CommandResult Apply(LinkCommand command, ulong index) => LinkStateMachine.Apply(_table, command, index);

    [Fact]
    public void A_free_lease_goes_to_the_first_asker_with_the_granting_entry_as_its_token()
    {
        var result = Apply(new AcquireLease(1_000, "sink:a", Holder: 2, DurationMs: 3_000), index: 17);
        Assert.Equal(CommandOutcome.Ok, result.Outcome);
        Assert.Equal(new Lease("sink:a", 2, 17, 4_000), result.Lease);
    }

    [Fact]
    public void Another_holder_is_refused_until_the_lease_expired_by_its_own_time_and_then_gets_a_higher_token()
    {
        Apply(new AcquireLease(1_000, "sink:a", 2, 3_000), 17);
        var early = Apply(new AcquireLease(3_999, "sink:a", 3, 3_000), 18);
        Assert.Equal(CommandOutcome.Conflict, early.Outcome);
        Assert.Equal(2UL, early.Lease!.Holder);

        var late = Apply(new AcquireLease(4_000, "sink:a", 3, 3_000), 19);
        Assert.Equal(CommandOutcome.Ok, late.Outcome);
        Assert.Equal(3UL, late.Lease!.Holder);
        Assert.Equal(19UL, late.Lease.Token);
    }

    [Fact]
    public void A_renewal_keeps_the_token_and_never_moves_the_expiry_back()
    {
        Apply(new AcquireLease(1_000, "sink:a", 2, 5_000), 17);
        var renewed = Apply(new AcquireLease(2_000, "sink:a", 2, 1_000), 30);
        Assert.Equal(17UL, renewed.Lease!.Token);
        Assert.Equal(6_000, renewed.Lease.ExpiresAtMs);

        var longer = Apply(new AcquireLease(5_500, "sink:a", 2, 5_000), 31);
        Assert.Equal(17UL, longer.Lease!.Token);
        Assert.Equal(10_500, longer.Lease.ExpiresAtMs);
    }

    [Fact]
    public void A_holder_whose_lease_lapsed_gets_a_new_token_even_if_nobody_took_it()
    {
        Apply(new AcquireLease(1_000, "sink:a", 2, 1_000), 17);
        var again = Apply(new AcquireLease(2_000, "sink:a", 2, 1_000), 40);
        Assert.Equal(40UL, again.Lease!.Token);
    }

    [Fact]
    public void Progress_is_kept_only_under_the_current_token_and_passes_to_the_next_holder()
    {
        Apply(new AcquireLease(1_000, "sink:a", 2, 1_000), 17);
        Assert.Equal(CommandOutcome.Ok, Apply(new RecordLeaseProgress(1_100, "sink:a", 17, "5.0"), 18).Outcome);

        var next = Apply(new AcquireLease(2_500, "sink:a", 3, 1_000), 20);
        Assert.Equal("5.0", next.Lease!.Progress);

        // The deposed holder's write is fenced off; the new holder's stands.
        var stale = Apply(new RecordLeaseProgress(2_600, "sink:a", 17, "9.0"), 21);
        Assert.Equal(CommandOutcome.Conflict, stale.Outcome);
        Assert.Equal(20UL, stale.Lease!.Token);
        Assert.Equal(CommandOutcome.Ok, Apply(new RecordLeaseProgress(2_700, "sink:a", 20, "6.1"), 22).Outcome);
        Assert.Equal("6.1", Apply(new AcquireLease(2_800, "sink:a", 3, 1_000), 23).Lease!.Progress);
    }

    [Fact]
    public void Progress_for_a_lease_nobody_was_granted_is_refused()
    {
        var result = Apply(new RecordLeaseProgress(1_000, "sink:none", 5, "1.0"), 9);
        Assert.Equal(CommandOutcome.Conflict, result.Outcome);
        Assert.Null(result.Lease);
    }

    [Fact]
    public void A_release_frees_the_lease_at_once_but_only_for_its_token()
    {
        Apply(new AcquireLease(1_000, "sink:a", 2, 10_000), 17);
        Assert.Equal(CommandOutcome.Conflict, Apply(new ReleaseLease(1_100, "sink:a", 16), 18).Outcome);
        Assert.Equal(CommandOutcome.Ok, Apply(new ReleaseLease(1_200, "sink:a", 17), 19).Outcome);
        var taken = Apply(new AcquireLease(1_200, "sink:a", 3, 10_000), 20);
        Assert.Equal(CommandOutcome.Ok, taken.Outcome);
        Assert.Equal(20UL, taken.Lease!.Token);
    }

    [Fact]
    public void Leases_of_different_names_are_independent_and_outside_a_log_none_is_granted()
    {
        Apply(new AcquireLease(1_000, "sink:a", 2, 10_000), 17);
        Assert.Equal(CommandOutcome.Ok, Apply(new AcquireLease(1_000, "sink:b", 3, 10_000), 18).Outcome);
        Assert.Throws<InvalidOperationException>(() => Apply(new AcquireLease(1_000, "sink:c", 3, 10_000), 0));
    }

    [Fact]
    public void Lease_commands_survive_the_log_codec_and_make_no_change_events()
    {
        LinkCommand[] commands =
        [
            new AcquireLease(1, "sink:a", 2, 3_000),
            new RecordLeaseProgress(2, "sink:a", 7, "3.1"),
            new ReleaseLease(3, "sink:a", 7),
        ];
        foreach (var command in commands)
        {
            Assert.Equal(command, LinkCommandCodec.Decode(LinkCommandCodec.Encode(new LinkCommandEnvelope(command))).Command);
        }

        var results = LinkBatch.Apply(_table, commands.Select(c => new LinkCommandEnvelope(c)).ToArray(), null, InMemoryLinkStateMachine.IsRefusal, 0, [new(5, 1), new(6, 1), new(7, 1)]);
        Assert.All(results, r => Assert.Null(r.Change));
        Assert.Equal(5UL, results[0].Result!.Lease!.Token);
    }
}
