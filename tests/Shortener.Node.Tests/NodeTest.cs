namespace Shortener.Node.Tests;

/// <summary>A test class with one real node of its own (<see cref="TestNode"/>), started before each test and stopped after.</summary>
public abstract class NodeTest : IAsyncLifetime
{
    protected TempDirectory Dir { get; } = new();

    protected TestNode Node { get; set; } = null!;

    public virtual async Task InitializeAsync() => Node = await TestNode.StartAsync(Dir.Path);

    public virtual async Task DisposeAsync()
    {
        await Node.DisposeAsync();
        Dir.Dispose();
    }
}
