using Shortener.Core.Changes;
using Shortener.Core.Links;
using Shortener.Core.Tests.Links;

namespace Shortener.Core.Tests.Changes;

public sealed class LinkChangesTests
{
    private static readonly ChangeOffset At = new(3, 1200, 1);

    [Fact]
    public void Creates_changes_and_deletes_are_changes_and_nothing_else_is()
    {
        var table = new InMemoryLinkTable();
        LinkChange? Apply(LinkCommand command)
        {
            var code = command switch { CreateLink c => c.Code, UpdateLink u => u.Code, DeleteLink d => d.Code, RecordVisit v => v.Code, _ => null };
            var before = code is null ? null : table.Find(code);
            return LinkChanges.Of(command, before, LinkStateMachine.Apply(table, command), At, term: 7);
        }

        var created = Apply(LinkFactory.Create("abc", maxVisits: 5))!;
        Assert.Equal((ChangeOperation.Create, null, "abc"), (created.Op, created.Before, created.After!.Code));
        Assert.Null(Apply(LinkFactory.Create("abc"))); // taken: refused, no change

        var updated = Apply(new UpdateLink(2_000, "abc", new LinkPatch(Title: "t")))!;
        Assert.Equal((ChangeOperation.Update, (string?)null, "t"), (updated.Op, updated.Before!.Title, updated.After!.Title));
        Assert.Equal(2_000, updated.AtMs);
        Assert.Null(Apply(new UpdateLink(2_100, "nope", new LinkPatch(Title: "t"))));
        Assert.Null(Apply(new RecordVisit(2_200, "abc"))); // visits are the other stream

        var deleted = Apply(new DeleteLink(3_000, "abc"))!;
        Assert.Equal((ChangeOperation.Delete, "abc", null), (deleted.Op, deleted.Before!.Code, deleted.After));
        Assert.Null(Apply(new DeleteLink(3_100, "abc"))); // deleting twice changes nothing
        Assert.Null(Apply(new UpdateLink(3_200, "abc", new LinkPatch(Title: "gone")))); // Gone
        Assert.Null(Apply(new LeaseCodeBlock(3_300, 10)));
    }

    [Fact]
    public void Positions_round_trip_and_refuse_what_the_feed_never_wrote()
    {
        var position = ChangePosition.Start.After(new ChangeOffset(3, 877, 2)).After(new ChangeOffset(0, 1200, 0));
        Assert.Equal("0:1200.0,3:877.2", position.ToString());
        Assert.Equal(position.ToString(), ChangePosition.Parse(position.ToString())!.ToString());
        Assert.Equal(new ChangeOffset(3, 877, 2), ChangePosition.Parse("0:1200.0,3:877.2")!.Of(3));
        Assert.Null(ChangePosition.Parse("0:1200.0")!.Of(1));
        Assert.Same(ChangePosition.Start, ChangePosition.Parse(null));
        Assert.Throws<ArgumentException>(() => position.After(new ChangeOffset(3, 877, 1)));

        foreach (var bad in new[] { "0:12", "a:1.0", "0:1.0,0:2.0", "-1:1.0", "0:1.x", "5000:1.0", ",", "0:.1" })
        {
            Assert.Null(ChangePosition.Parse(bad));
        }

        Assert.Equal("links-3-877-2", new ChangeOffset(3, 877, 2).Id);
        Assert.True(new ChangeOffset(3, 877, 2).CompareTo(new ChangeOffset(3, 878, 0)) < 0);
    }

    [Fact]
    public void Retention_cuts_a_prefix_by_age_and_by_count()
    {
        LinkChange Change(ulong index, long at) => new(new ChangeOffset(0, index, 0), 1, ChangeOperation.Create, null, null, at, default);
        LinkChange[] kept = [Change(1, 100), Change(2, 300), Change(3, 200), Change(4, 400)];
        Assert.Null(ChangeRetention.Cut(kept, beforeMs: 50, keep: 10));
        Assert.Equal(new ChangeOffset(0, 3, 0), ChangeRetention.Cut(kept, beforeMs: 250, keep: 10)); // through the newest old one, though 2 is younger
        Assert.Equal(new ChangeOffset(0, 2, 0), ChangeRetention.Cut(kept, beforeMs: 50, keep: 2));
        Assert.Equal(new ChangeOffset(0, 3, 0), ChangeRetention.Cut(kept, beforeMs: 250, keep: 3));
        Assert.Null(ChangeRetention.Cut([], beforeMs: 1_000, keep: 0));
    }
}
