namespace Shortener.Cli.Commands;

/// <summary>A one-line progress bar on the error stream, redrawn in place when it is a terminal.</summary>
public sealed class ProgressBar(TextWriter writer, int total)
{
    private readonly bool _interactive = ReferenceEquals(writer, Console.Error) && !Console.IsErrorRedirected;
    private int _done;
    private int _lastPercentPrinted = -1;

    public void Advance(int failures)
    {
        _done++;
        var percent = total == 0 ? 100 : _done * 100 / total;
        if (_interactive)
        {
            var filled = percent / 4;
            writer.Write($"\r[{new string('#', filled)}{new string('.', 25 - filled)}] {_done}/{total} seeds, {failures} failed ");
        }
        else if (percent / 10 != _lastPercentPrinted / 10)
        {
            // Not a terminal: a line every 10%.
            writer.WriteLine($"{_done}/{total} seeds, {failures} failed");
        }

        _lastPercentPrinted = percent;
    }

    public void Done()
    {
        if (_interactive)
        {
            writer.WriteLine();
        }
    }
}
