using CsCheck;
using Shortener.Core.Links;

namespace Shortener.Core.Tests.Links;

public class LinkStateMachinePropertyTests
{
    /// <summary>
    /// Replicas replay commands from their serialized form (a log entry), so the second run goes
    /// through the JSON codec: the same state must come out of the bytes as out of the objects.
    /// </summary>
    [Fact]
    public void Any_sequence_applied_twice_from_the_same_start_gives_the_same_state_and_results() =>
        Gen.Select(LinkCommandGen.Sequences, LinkCommandGen.Sequences).Sample((prefix, sequence) =>
        {
            var a = new InMemoryLinkTable();
            var b = new InMemoryLinkTable();
            foreach (var envelope in prefix)
            {
                LinkStateMachine.Apply(a, envelope);
                LinkStateMachine.Apply(b, envelope);
            }

            var resultsA = sequence.Select(e => LinkStateMachine.Apply(a, e)).ToList();
            var resultsB = sequence.Select(e => LinkStateMachine.Apply(b, LinkJson.Deserialize<LinkCommandEnvelope>(LinkJson.Serialize(e)))).ToList();
            Assert.Equal(resultsA.Select(r => (r.Outcome, r.Replayed, r.Block)), resultsB.Select(r => (r.Outcome, r.Replayed, r.Block)));
            AssertSameState(a, b);
        });

    [Fact]
    public void Invariants_hold_after_any_sequence() =>
        LinkCommandGen.Sequences.Sample(sequence =>
        {
            var table = new InMemoryLinkTable();
            var leased = new List<CodeBlock>();
            foreach (var envelope in sequence)
            {
                var before = envelope.Command is CreateLink c ? table.Find(c.Code) : null;
                var visited = envelope.Command is RecordVisit v ? table.Find(v.Code) : null;
                var result = LinkStateMachine.Apply(table, envelope);
                if (envelope.Command is RecordVisit visit && visited is not null && !result.Replayed && result.Outcome != CommandOutcome.IdempotencyMismatch)
                {
                    // A visit counts exactly when the link was redirecting at that moment.
                    var counted = visited.StateAt(visit.At) == LinkState.Active;
                    Assert.Equal(counted ? CommandOutcome.Ok : CommandOutcome.Gone, result.Outcome);
                    Assert.Equal(visited.Visits + (counted ? 1 : 0), table.Find(visit.Code)!.Visits);
                }

                if (result.Block is { } block && !result.Replayed)
                {
                    leased.Add(block);
                }

                // A create never overwrites an existing link.
                if (before is not null)
                {
                    Assert.True(before.SameAs(table.Find(before.Code)));
                }
            }

            foreach (var link in table.Links.Values)
            {
                Assert.True(link.UpdatedAt >= link.CreatedAt);
            }

            // Leased blocks are disjoint and below the next unleased number.
            var ordered = leased.OrderBy(b => b.Start).ToList();
            for (var i = 1; i < ordered.Count; i++)
            {
                Assert.True(ordered[i - 1].End <= ordered[i].Start);
            }

            Assert.All(ordered, b => Assert.True(b.End <= table.NextSequence));
        });

    internal static void AssertSameState(InMemoryLinkTable a, InMemoryLinkTable b)
    {
        Assert.Equal(a.NextSequence, b.NextSequence);
        Assert.Equal(a.IdempotencyCount, b.IdempotencyCount);
        Assert.Equal(a.Links.Keys.Order(StringComparer.Ordinal), b.Links.Keys.Order(StringComparer.Ordinal));
        foreach (var (code, link) in a.Links)
        {
            Assert.True(link.SameAs(b.Links[code]), $"{code}: {link} vs {b.Links[code]}");
        }
    }
}
