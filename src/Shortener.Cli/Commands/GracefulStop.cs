using System.Runtime.InteropServices;

namespace Shortener.Cli.Commands;

/// <summary>
/// For a command that must clean up before it ends (stop its node processes, heal a fault): Ctrl-C
/// and SIGTERM cancel <see cref="Token"/> instead of ending the process, so the command's finally
/// blocks run to their end rather than being cut off a moment later.
/// </summary>
internal sealed class GracefulStop : IDisposable
{
    private readonly CancellationTokenSource _stop;
    private readonly PosixSignalRegistration _onTerm;
    private readonly PosixSignalRegistration _onInt;

    public GracefulStop(CancellationToken invocation)
    {
        _stop = CancellationTokenSource.CreateLinkedTokenSource(invocation);
        _onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        _onInt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
    }

    public CancellationToken Token => _stop.Token;

    public void Dispose()
    {
        _onTerm.Dispose();
        _onInt.Dispose();
        _stop.Dispose();
    }

    private void Stop(PosixSignalContext context)
    {
        context.Cancel = true;
        _stop.Cancel();
    }
}
