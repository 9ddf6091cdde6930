using Shortener.Core.Links;

namespace Shortener.Core.Tests.Links;

public class LinkStateMachineTests
{
    private readonly InMemoryLinkTable _table = new();

    [Fact]
    public void Create_then_read()
    {
        var result = Apply(LinkFactory.Create("abc", at: 5, tags: ["x"]));
        Assert.Equal(CommandOutcome.Created, result.Outcome);
        var link = _table.Find("abc")!;
        Assert.Equal(5, link.CreatedAt);
        Assert.Equal(5, link.UpdatedAt);
        Assert.Equal(["x"], link.Tags);
        Assert.Equal(LinkState.Active, link.StateAt(6));
    }

    [Fact]
    public void Create_on_a_taken_code_is_a_conflict_and_changes_nothing()
    {
        Apply(LinkFactory.Create("abc", url: "https://first.example/"));
        var result = Apply(LinkFactory.Create("abc", url: "https://second.example/"));
        Assert.Equal(CommandOutcome.Conflict, result.Outcome);
        Assert.Equal("https://first.example/", _table.Find("abc")!.Url);
    }

    [Fact]
    public void A_deleted_code_is_never_reused()
    {
        Apply(LinkFactory.Create("abc"));
        Apply(new DeleteLink(2_000, "abc"));
        Assert.Equal(CommandOutcome.Conflict, Apply(LinkFactory.Create("abc")).Outcome);
        Assert.Equal(LinkState.Deleted, _table.Find("abc")!.StateAt(3_000));
    }

    [Fact]
    public void Update_changes_named_fields_and_clears_optional_ones()
    {
        Apply(LinkFactory.Create("abc", expiresAt: 10_000, maxVisits: 5) with { Title = "t" });
        var result = Apply(new UpdateLink(2_000, "abc", new LinkPatch(Url: "https://new.example/", RedirectStatus: 301, Tags: ["a", "b"], Clear: LinkFields.ExpiresAt | LinkFields.Title)));
        Assert.Equal(CommandOutcome.Ok, result.Outcome);
        var link = _table.Find("abc")!;
        Assert.Equal("https://new.example/", link.Url);
        Assert.Equal(301, link.RedirectStatus);
        Assert.Null(link.ExpiresAt);
        Assert.Null(link.Title);
        Assert.Equal(5, link.MaxVisits);
        Assert.Equal(["a", "b"], link.Tags);
        Assert.Equal(2_000, link.UpdatedAt);
        Assert.Equal(1_000, link.CreatedAt);
    }

    [Fact]
    public void Update_of_missing_or_deleted_link_is_refused()
    {
        Assert.Equal(CommandOutcome.NotFound, Apply(new UpdateLink(1, "nope", new LinkPatch(Title: "x"))).Outcome);
        Apply(LinkFactory.Create("abc"));
        Apply(new DeleteLink(2_000, "abc"));
        Assert.Equal(CommandOutcome.Gone, Apply(new UpdateLink(3_000, "abc", new LinkPatch(Title: "x"))).Outcome);
        Assert.Null(_table.Find("abc")!.Title);
    }

    [Fact]
    public void Delete_twice_is_fine_and_missing_is_not_found()
    {
        Apply(LinkFactory.Create("abc"));
        Assert.Equal(CommandOutcome.Ok, Apply(new DeleteLink(2_000, "abc")).Outcome);
        Assert.Equal(CommandOutcome.Ok, Apply(new DeleteLink(3_000, "abc")).Outcome);
        Assert.Equal(2_000, _table.Find("abc")!.UpdatedAt);
        Assert.Equal(CommandOutcome.NotFound, Apply(new DeleteLink(3_000, "nope")).Outcome);
    }

    [Fact]
    public void Visits_count_up_to_the_limit_then_the_link_is_gone()
    {
        Apply(LinkFactory.Create("abc", maxVisits: 2));
        Assert.Equal(CommandOutcome.Ok, Apply(new RecordVisit(2_000, "abc")).Outcome);
        Assert.Equal(CommandOutcome.Ok, Apply(new RecordVisit(2_001, "abc")).Outcome);
        Assert.Equal(CommandOutcome.Gone, Apply(new RecordVisit(2_002, "abc")).Outcome);
        Assert.Equal(2, _table.Find("abc")!.Visits);
        Assert.Equal(LinkState.Exhausted, _table.Find("abc")!.StateAt(2_003));
    }

    [Fact]
    public void Expiry_is_judged_by_the_command_time()
    {
        Apply(LinkFactory.Create("abc", expiresAt: 5_000));
        Assert.Equal(LinkState.Active, _table.Find("abc")!.StateAt(4_999));
        Assert.Equal(LinkState.Expired, _table.Find("abc")!.StateAt(5_000));
        Assert.Equal(CommandOutcome.Gone, Apply(new RecordVisit(5_000, "abc")).Outcome);
    }

    [Fact]
    public void Idempotent_retry_returns_the_first_result_without_applying_again()
    {
        var token = new IdempotencyToken("key-1", "retry-1", "hash-a");
        var first = LinkStateMachine.Apply(_table, new LinkCommandEnvelope(LinkFactory.Create("abc"), token));
        var retry = LinkStateMachine.Apply(_table, new LinkCommandEnvelope(LinkFactory.Create("abc", at: 2_000), token));
        Assert.Equal(CommandOutcome.Created, first.Outcome);
        Assert.False(first.Replayed);
        Assert.Equal(CommandOutcome.Created, retry.Outcome);
        Assert.True(retry.Replayed);
        Assert.True(first.Link!.SameAs(retry.Link));
    }

    [Fact]
    public void Same_key_with_another_request_is_refused()
    {
        LinkStateMachine.Apply(_table, new LinkCommandEnvelope(LinkFactory.Create("abc"), new IdempotencyToken("s", "k", "hash-a")));
        var other = LinkStateMachine.Apply(_table, new LinkCommandEnvelope(LinkFactory.Create("xyz"), new IdempotencyToken("s", "k", "hash-b")));
        Assert.Equal(CommandOutcome.IdempotencyMismatch, other.Outcome);
        Assert.Null(_table.Find("xyz"));
    }

    [Fact]
    public void Keys_are_scoped_per_client()
    {
        LinkStateMachine.Apply(_table, new LinkCommandEnvelope(LinkFactory.Create("abc"), new IdempotencyToken("client-a", "k", "h1")));
        var b = LinkStateMachine.Apply(_table, new LinkCommandEnvelope(LinkFactory.Create("xyz"), new IdempotencyToken("client-b", "k", "h2")));
        Assert.Equal(CommandOutcome.Created, b.Outcome);
    }

    [Fact]
    public void A_key_is_forgotten_after_24_hours()
    {
        var token = new IdempotencyToken("s", "k", "h");
        LinkStateMachine.Apply(_table, new LinkCommandEnvelope(LinkFactory.Create("abc", at: 0), token));
        var later = LinkStateMachine.Apply(_table, new LinkCommandEnvelope(LinkFactory.Create("xyz", at: LinkStateMachine.IdempotencyRetentionMs), token));
        Assert.Equal(CommandOutcome.Created, later.Outcome);
        Assert.False(later.Replayed);
        Assert.NotNull(_table.Find("xyz"));
    }

    [Fact]
    public void A_generated_code_collision_is_not_remembered_against_the_key()
    {
        Apply(LinkFactory.Create("Ab3dE9x"));
        var token = new IdempotencyToken("s", "k", "h");
        var clash = LinkStateMachine.Apply(_table, new LinkCommandEnvelope(LinkFactory.Create("Ab3dE9x") with { Generated = true }, token));
        Assert.Equal(CommandOutcome.Conflict, clash.Outcome);
        var retry = LinkStateMachine.Apply(_table, new LinkCommandEnvelope(LinkFactory.Create("Zz9Yy8x") with { Generated = true }, token));
        Assert.Equal(CommandOutcome.Created, retry.Outcome);
        Assert.False(retry.Replayed);
    }

    [Fact]
    public void An_alias_conflict_is_remembered_against_the_key()
    {
        Apply(LinkFactory.Create("taken"));
        var token = new IdempotencyToken("s", "k", "h");
        LinkStateMachine.Apply(_table, new LinkCommandEnvelope(LinkFactory.Create("taken"), token));
        var retry = LinkStateMachine.Apply(_table, new LinkCommandEnvelope(LinkFactory.Create("taken"), token));
        Assert.Equal(CommandOutcome.Conflict, retry.Outcome);
        Assert.True(retry.Replayed);
    }

    [Fact]
    public void Commands_and_results_round_trip_through_json()
    {
        LinkCommand[] commands =
        [
            LinkFactory.Create("abc", tags: ["t"]) with { Generated = true },
            new UpdateLink(5, "abc", new LinkPatch(Url: "https://x.example/", Clear: LinkFields.Title | LinkFields.MaxVisits)),
            new DeleteLink(6, "abc"),
            new RecordVisit(7, "abc"),
            new LeaseCodeBlock(8, 1000),
            new SetClusterMembers(9, 3, "{}"),
            new SetClusterDocument(10, ClusterDocumentNames.ApiKeys, 2, "{\"keys\":[]}"),
        ];
        foreach (var command in commands)
        {
            var json = LinkJson.Serialize(command);
            Assert.Equal(json, LinkJson.Serialize(LinkJson.Deserialize<LinkCommand>(json)));
        }

        var result = Apply(LinkFactory.Create("zzz", tags: ["a", "b"]));
        var back = LinkJson.Deserialize<CommandResult>(LinkJson.Serialize(result));
        Assert.Equal(result.Outcome, back.Outcome);
        Assert.True(result.Link!.SameAs(back.Link));
    }

    [Fact]
    public void The_member_list_changes_only_from_the_version_the_proposer_saw()
    {
        Assert.Null(_table.FindDocument(ClusterDocumentNames.Members));
        var first = Apply(new SetClusterMembers(1, 0, "a"));
        Assert.Equal((CommandOutcome.Ok, 1L), (first.Outcome, first.DocumentVersion));

        // A second operator who also read version 0 is refused and told the current version.
        var stale = Apply(new SetClusterMembers(2, 0, "b"));
        Assert.Equal((CommandOutcome.Conflict, 1L), (stale.Outcome, stale.DocumentVersion));
        Assert.Equal((1L, "a"), _table.FindDocument(ClusterDocumentNames.Members));

        Assert.Equal(2L, Apply(new SetClusterMembers(3, 1, "c")).DocumentVersion);
        Assert.Equal((2L, "c"), _table.FindDocument(ClusterDocumentNames.Members));
    }

    [Fact]
    public void Each_cluster_document_has_its_own_version_and_unknown_names_are_refused()
    {
        Apply(new SetClusterMembers(1, 0, "members"));
        var keys = Apply(new SetClusterDocument(2, ClusterDocumentNames.ApiKeys, 0, "keys v1"));
        Assert.Equal((CommandOutcome.Ok, 1L), (keys.Outcome, keys.DocumentVersion));
        Assert.Equal(CommandOutcome.Conflict, Apply(new SetClusterDocument(3, ClusterDocumentNames.ApiKeys, 0, "lost")).Outcome);
        Assert.Equal(2L, Apply(new SetClusterDocument(4, ClusterDocumentNames.ApiKeys, 1, "keys v2")).DocumentVersion);
        Assert.Equal((2L, "keys v2"), _table.FindDocument(ClusterDocumentNames.ApiKeys));
        Assert.Equal((1L, "members"), _table.FindDocument(ClusterDocumentNames.Members));

        // A name the machine does not keep is a proposer's bug: refused alike on every replica, nothing stored.
        Assert.Throws<InvalidOperationException>(() => Apply(new SetClusterDocument(5, "next_sequence", 0, "x")));
        Assert.Null(_table.FindDocument("next_sequence"));
    }

    private CommandResult Apply(LinkCommand command) => LinkStateMachine.Apply(_table, command);
}
