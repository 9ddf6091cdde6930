namespace Shortener.Cli.Tests;

public class SimCommandTests
{
    [Fact]
    public async Task Sim_raft_runs_seeds_and_reports_speed()
    {
        var output = new StringWriter();
        var exit = await ShortenerCli.RunAsync(["sim", "raft", "--seeds", "3"], output, new StringWriter());
        Assert.Equal(0, exit);
        Assert.Matches(@"3 of 3 seeds passed; operations ok \d+, failed \d+, unknown \d+; \d+ simulated s in [\d.]+ wall s \(\d+ simulated s per wall s\)", output.ToString());
    }

    [Fact]
    public async Task Sim_commit_ends_with_the_seed_count_violations_and_blocked_and_refuses_bad_options()
    {
        var output = new StringWriter();
        Assert.Equal(0, await ShortenerCli.RunAsync(["sim", "commit", "--protocol", "2pc-raft", "--seeds", "20"], output, new StringWriter()));
        Assert.EndsWith("20 seeds, atomicity violations 0, blocked 0", output.ToString().TrimEnd());

        // The textbook protocols' failures are shown, not failed on.
        output = new StringWriter();
        Assert.Equal(0, await ShortenerCli.RunAsync(["sim", "commit", "--protocol", "3pc", "--seeds", "20"], output, new StringWriter()));
        Assert.Matches(@"20 seeds, atomicity violations \d+, blocked 0\s*$", output.ToString());

        var error = new StringWriter();
        Assert.Equal(2, await ShortenerCli.RunAsync(["sim", "commit", "--protocol", "paxos"], new StringWriter(), error));
        Assert.Contains("--protocol must be 2pc, 3pc or 2pc-raft", error.ToString());
        error = new StringWriter();
        Assert.Equal(2, await ShortenerCli.RunAsync(["sim", "commit", "--protocol", "3pc", "--bug", "resolve-without-record"], new StringWriter(), error));
        Assert.Contains("2pc-raft only", error.ToString());
    }

    [Fact]
    public async Task Sim_election_runs_both_algorithms_under_the_same_partitions_and_tables_split_brain()
    {
        var output = new StringWriter();
        var exit = await ShortenerCli.RunAsync(["sim", "election", "--seeds", "2", "--nodes", "3"], output, new StringWriter());
        Assert.Equal(0, exit);
        var text = output.ToString();
        Assert.Matches(@"seed 1 bully: SPLIT BRAIN; (\d+) partitions", text);
        Assert.Matches(@"seed 1 raft : no split brain; \d+ partitions, \d+ leaderships, terms with two leaders 0", text);
        Assert.Matches(@"bully: split brain in 2 of 2 seeds; epochs with two leaders \d+; two leaders for \d+ ms in all; acknowledged writes lost \d+ of \d+", text);
        Assert.Contains("raft: split brain in 0 of 2 seeds; terms with two leaders 0;", text);
        Assert.Contains("linearizable in 2 of 2", text);

        var error = new StringWriter();
        Assert.Equal(2, await ShortenerCli.RunAsync(["sim", "election", "--algorithm", "paxos"], new StringWriter(), error));
        Assert.Contains("--algorithm must be bully, raft or both", error.ToString());
    }

    [Fact]
    public async Task A_failing_seed_exits_non_zero_and_prints_how_to_replay_it()
    {
        var output = new StringWriter();
        var exit = await ShortenerCli.RunAsync(["sim", "raft", "--seeds", "5", "--bug", "VoteWithoutLogCheck"], output, new StringWriter());
        Assert.Equal(1, exit);
        var text = output.ToString();
        var failed = System.Text.RegularExpressions.Regex.Match(text, @"seed (\d+): FAILED");
        Assert.True(failed.Success, text);
        Assert.Contains($"replay: shortener sim raft --seed {failed.Groups[1].Value} --nodes 3 --ops 200 --faults all --bug VoteWithoutLogCheck", text);
    }

    [Fact]
    public async Task Planted_bugs_run_one_by_one_and_their_detection_rates_are_tabled()
    {
        var output = new StringWriter();
        var exit = await ShortenerCli.RunAsync(["sim", "raft", "--seeds", "4", "--bug", "DropProposalsOnLeaderChange", "--bug", "ReadIndexBeforeTermCommit", "--faults", "partition,aimed"], output, new StringWriter());
        Assert.Equal(1, exit);
        var text = output.ToString();
        Assert.Matches(@"DropProposalsOnLeaderChange\s+4 / 4\s+100\.0%\s+1", text);
        Assert.Matches(@"ReadIndexBeforeTermCommit\s+\d / 4\s+[\d.]+%", text);
        Assert.Contains("--faults partition,aimed --bug DropProposalsOnLeaderChange", text);
    }

    [Theory]
    [InlineData("--faults", "earthquake")]
    [InlineData("--bug", "NoSuchBug")]
    [InlineData("--nodes", "0")]
    public async Task Bad_options_are_refused(string option, string value)
    {
        var error = new StringWriter();
        var exit = await ShortenerCli.RunAsync(["sim", "raft", "--seeds", "1", option, value], new StringWriter(), error);
        Assert.Equal(2, exit);
        Assert.StartsWith("error:", error.ToString());
    }

    [Fact]
    public async Task Sim_gossip_reports_join_detection_and_rejoin_per_seed()
    {
        var output = new StringWriter();
        var exit = await ShortenerCli.RunAsync(["sim", "gossip", "--seeds", "2", "--members", "20"], output, new StringWriter());
        Assert.Equal(0, exit);
        Assert.Matches(@"seed 1: ok join [\d.]+s detect [\d.]+s rejoin [\d.]+s suspicions \d+ false-deaths 0 messages \d+", output.ToString());
        Assert.Contains("2 of 2 seeds passed", output.ToString());
    }

    [Fact]
    public async Task Sim_gossip_at_half_loss_finds_false_deaths_and_prints_the_replay()
    {
        // Half the messages lost is past what SWIM's refutations survive (docs/gossip.md): among
        // a few seeds some declare live members dead.
        var output = new StringWriter();
        var exit = await ShortenerCli.RunAsync(["sim", "gossip", "--seeds", "10", "--members", "10", "--loss", "0.5", "--max-delay-ms", "300"], output, new StringWriter());
        Assert.Equal(1, exit);
        Assert.Contains("verdicts of death about running members", output.ToString());
        Assert.Matches(@"replay: shortener sim gossip --seed \d+ --members 10 --loss 0.5 --duplicate 0 --max-delay-ms 300", output.ToString());
        Assert.DoesNotContain("10 of 10 seeds passed", output.ToString());
    }

    [Theory]
    [InlineData("--members", "2")]
    [InlineData("--loss", "0.9")]
    [InlineData("--max-delay-ms", "0")]
    public async Task Bad_gossip_options_are_refused(string option, string value)
    {
        var error = new StringWriter();
        var exit = await ShortenerCli.RunAsync(["sim", "gossip", "--seeds", "1", option, value], new StringWriter(), error);
        Assert.Equal(2, exit);
        Assert.StartsWith("error:", error.ToString());
    }

    [Fact]
    public async Task Sim_clicks_counts_exactly_and_a_planted_bug_fails_with_its_replay_line()
    {
        var output = new StringWriter();
        Assert.Equal(0, await ShortenerCli.RunAsync(["sim", "clicks", "--seeds", "2", "--fault-seconds", "8"], output, new StringWriter()));
        Assert.Matches(@"seed 1: ok redirects (\d+) counted \1 over 0 lost 0", output.ToString());
        Assert.Contains("2 of 2 seeds passed", output.ToString());

        var buggy = new StringWriter();
        Assert.Equal(1, await ShortenerCli.RunAsync(["sim", "clicks", "--seeds", "3", "--bug", "NoDeduplication", "--fault-seconds", "8"], buggy, new StringWriter()));
        Assert.Matches(@"replay: shortener sim clicks --seed \d+ --nodes 5 --mode exactly-once --write-level quorum --loss 0.05 --duplicate 0.05 --max-delay-ms 40 --fault-seconds 8 --seal-fault-seconds 5 --bug NoDeduplication", buggy.ToString());

        // Sealing in the middle of the faults: a planted sum of the versions shows, and its replay line says how to get there.
        var summed = new StringWriter();
        Assert.Equal(1, await ShortenerCli.RunAsync(["sim", "clicks", "--seed", "2", "--seal-during-faults", "--bug", "SiblingsSummed", "--fault-seconds", "8"], summed, new StringWriter()));
        Assert.Contains("day 20454, sealed during the faults", summed.ToString());
        Assert.Contains("--seal-fault-seconds 5 --seal-during-faults --bug SiblingsSummed", summed.ToString());
    }

    [Theory]
    [InlineData("--mode", "twice")]
    [InlineData("--write-level", "most")]
    [InlineData("--nodes", "0")]
    [InlineData("--bug", "Gremlins")]
    [InlineData("--seal-fault-seconds", "-1")]
    public async Task Bad_clicks_options_are_refused(string option, string value)
    {
        var error = new StringWriter();
        var exit = await ShortenerCli.RunAsync(["sim", "clicks", "--seeds", "1", option, value], new StringWriter(), error);
        Assert.Equal(2, exit);
        Assert.StartsWith("error:", error.ToString());
    }
}
