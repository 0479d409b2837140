using System.Runtime.ExceptionServices;

namespace RelpSae.Numerics;

/// <summary>
/// A few long-lived background threads that run the parts of one job beside the calling thread.
/// Dispatch is a function pointer and a pointer to the caller's (stack) state, so a call allocates
/// nothing. One job at a time: a call that finds the team busy — a second thread multiplying at the
/// same moment, or a call from inside a Parallel.For body while another holds it — gets false and
/// does its work alone on its own thread, so nesting never deadlocks or oversubscribes the cores.
/// </summary>
internal static unsafe class WorkerTeam
{
    private static int busy;
    private static Worker[] workers = [];

    private static delegate*<void*, int, void> job;
    private static void* jobState;
    private static int pending;
    private static readonly ManualResetEventSlim allDone = new(false);
    private static ExceptionDispatchInfo? failure;

    /// <summary>
    /// Runs work(state, 0..parts-1): part 0 on the caller, the rest on workers; returns after all
    /// parts finished. Returns false, having run nothing, when the team is busy.
    /// </summary>
    public static bool TryRun(int parts, delegate*<void*, int, void> work, void* state)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(parts, 2);
        if (Interlocked.CompareExchange(ref busy, 1, 0) != 0) return false;
        try
        {
            Worker[] team = EnsureWorkers(parts - 1);
            job = work;
            jobState = state;
            failure = null;
            pending = parts - 1;
            allDone.Reset();
            for (int w = 0; w < parts - 1; w++) team[w].Start();
            try { work(state, 0); }
            finally { allDone.Wait(); }
            failure?.Throw();
            return true;
        }
        finally
        {
            job = null;
            jobState = null;
            Volatile.Write(ref busy, 0);
        }
    }

    /// <summary>Grows the team to <paramref name="count"/> workers (only ever called by the holder of busy).</summary>
    private static Worker[] EnsureWorkers(int count)
    {
        if (workers.Length >= count) return workers;
        var grown = new Worker[count];
        Array.Copy(workers, grown, workers.Length);
        for (int w = workers.Length; w < count; w++) grown[w] = new Worker(w + 1);
        return workers = grown;
    }

    private sealed class Worker
    {
        private readonly SemaphoreSlim go = new(0);
        private readonly int part;

        public Worker(int part)
        {
            this.part = part;
            new Thread(Loop) { IsBackground = true, Name = $"RelpSae GEMM worker {part}" }.Start();
        }

        public void Start() => go.Release();

        private void Loop()
        {
            while (true)
            {
                go.Wait();
                try { job(jobState, part); }
                catch (Exception e) { Interlocked.CompareExchange(ref failure, ExceptionDispatchInfo.Capture(e), null); }
                if (Interlocked.Decrement(ref pending) == 0) allDone.Set();
            }
        }
    }
}
