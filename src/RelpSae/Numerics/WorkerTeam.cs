using System.Diagnostics;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;

namespace RelpSae.Numerics;

/// <summary>
/// A few long-lived background threads that run the parts of one job beside the calling thread: every
/// product split over threads, and the row-wise and per-head passes between them (<see cref="For"/>).
/// Dispatch is a function pointer and a pointer to the caller's (stack) state, so a call allocates
/// nothing. One job at a time: a call that finds the team busy — a second thread multiplying at the
/// same moment, or a product inside a <see cref="For"/> body — gets false and does its work alone on its
/// own thread, so nesting never deadlocks or oversubscribes the cores.
/// </summary>
internal static unsafe class WorkerTeam
{
    /// <summary>
    /// How long a worker waits for the next part awake before it sleeps (and the caller for the last part
    /// to finish before it sleeps). A forward's jobs come tens to hundreds of microseconds apart; a worker
    /// woken from sleep starts its part late by a wake-up, which on this VM is a hypervisor's round trip.
    /// </summary>
    private static readonly long SpinTicks = Stopwatch.Frequency / 5000;   // 200 µs

    private static int busy;
    private static Worker[] workers = [];

    private static delegate*<void*, int, void> job;
    private static void* jobState;
    private static int pending;
    private static int round;
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
            int ticket = ++round;
            for (int w = 0; w < parts - 1; w++) team[w].Start(ticket);
            try { work(state, 0); }
            finally { AwaitParts(); }
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

    /// <summary>
    /// Calls <paramref name="body"/>(i) for every i in [0, count) on up to <see cref="Threads.Count"/> threads,
    /// each taking the next index as it finishes one; on the calling thread alone when the team is busy.
    /// </summary>
    public static void For(int count, Action<int> body)
    {
        int parts = Math.Min(Threads.Count, count);
        if (parts > 1)
        {
            var handle = GCHandle.Alloc(body);
            try
            {
                var state = new ForState { Body = GCHandle.ToIntPtr(handle), Count = count };
                if (TryRun(parts, &RunFor, &state)) return;
            }
            finally { handle.Free(); }
        }
        for (int i = 0; i < count; i++) body(i);
    }

    private struct ForState
    {
        public nint Body;
        public int Count;
        public int Next;
    }

    private static void RunFor(void* state, int part)
    {
        var s = (ForState*)state;
        var body = (Action<int>)GCHandle.FromIntPtr(s->Body).Target!;
        for (int i; (i = Interlocked.Increment(ref s->Next) - 1) < s->Count;) body(i);
    }

    private static void AwaitParts()
    {
        long until = Stopwatch.GetTimestamp() + SpinTicks;
        while (Volatile.Read(ref pending) != 0 && Stopwatch.GetTimestamp() < until) Thread.SpinWait(1);
        allDone.Wait();
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
        /// <summary>The round of the part this worker is to run next, written by the caller.</summary>
        private int ticket;
        /// <summary>1 while the worker sleeps on <see cref="go"/> (or is about to): the caller then releases it.</summary>
        private int sleeping;

        public Worker(int part)
        {
            this.part = part;
            new Thread(Loop) { IsBackground = true, Name = $"RelpSae worker {part}" }.Start();
        }

        public void Start(int round)
        {
            Volatile.Write(ref ticket, round);
            if (Interlocked.Exchange(ref sleeping, 0) == 1) go.Release();
        }

        private void Loop()
        {
            for (int seen = 0; ; )
            {
                seen = AwaitTicket(seen);
                try { job(jobState, part); }
                catch (Exception e) { Interlocked.CompareExchange(ref failure, ExceptionDispatchInfo.Capture(e), null); }
                if (Interlocked.Decrement(ref pending) == 0) allDone.Set();
            }
        }

        /// <summary>
        /// Spins until the caller hands out a new round, then sleeps. The caller writes the ticket before it reads
        /// <see cref="sleeping"/>, and this thread sets sleeping before it reads the ticket again (both full fences),
        /// so a round is never missed and each release is taken.
        /// </summary>
        private int AwaitTicket(int seen)
        {
            long until = Stopwatch.GetTimestamp() + SpinTicks;
            int t;
            while ((t = Volatile.Read(ref ticket)) == seen)
            {
                if (Stopwatch.GetTimestamp() < until) { Thread.SpinWait(1); continue; }
                Interlocked.Exchange(ref sleeping, 1);
                if ((t = Volatile.Read(ref ticket)) != seen)
                {
                    if (Interlocked.Exchange(ref sleeping, 0) == 0) go.Wait();   // the caller saw us asleep and released
                    return t;
                }
                go.Wait();
                until = Stopwatch.GetTimestamp() + SpinTicks;
            }
            return t;
        }
    }
}
