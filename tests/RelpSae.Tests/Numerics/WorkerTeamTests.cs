using RelpSae.Numerics;

namespace RelpSae.Tests.Numerics;

/// <summary>
/// The team that runs products, row bands and attention heads beside the calling thread. These tests run
/// alone: a product of another test holding the team would make <see cref="WorkerTeam.For"/> run inline.
/// </summary>
[Collection(nameof(WorkerTeamAlone))]
public class WorkerTeamTests
{
    [Fact]
    public void EveryIndexRunsOnceAndTwoThreadsShareTheWork()
    {
        var runs = new int[1000];
        var threads = new HashSet<int>();
        bool met = false;
        WithThreads(2, () => WorkerTeam.For(runs.Length, i =>
        {
            Interlocked.Increment(ref runs[i]);
            lock (threads) threads.Add(Environment.CurrentManagedThreadId);
            // The first index waits for a second thread to take one: the worker must run beside the caller.
            if (i == 0) met = SpinWait.SpinUntil(() => { lock (threads) return threads.Count == 2; }, TimeSpan.FromSeconds(10));
        }));
        Assert.All(runs, r => Assert.Equal(1, r));
        Assert.True(met, "no second thread took an index while the first waited");
    }

    [Fact]
    public void OneThreadRunsEverythingOnTheCaller()
    {
        int caller = 0, elsewhere = 0, sum = 0;
        WithThreads(1, () => WorkerTeam.For(100, i =>
        {
            if (i == 0) caller = Environment.CurrentManagedThreadId;
            sum += i;
            if (Environment.CurrentManagedThreadId != caller) elsewhere++;
        }));
        Assert.Equal(4950, sum);
        Assert.Equal(0, elsewhere);
    }

    [Fact]
    public void AFailureOnAnyThreadReachesTheCallerAsItself()
    {
        foreach (int failing in new[] { 0, 1, 63 })
        {
            var e = Assert.Throws<InvalidOperationException>(() => WithThreads(2, () => WorkerTeam.For(64, i =>
            {
                Thread.SpinWait(2000);
                if (i == failing) throw new InvalidOperationException($"index {i}");
            })));
            Assert.Equal($"index {failing}", e.Message);
        }
        // The team is free again afterwards.
        int count = 0;
        WithThreads(2, () => WorkerTeam.For(10, _ => Interlocked.Increment(ref count)));
        Assert.Equal(10, count);
    }

    [Fact]
    public void WorkInsideABodyRunsOnItsOwnThreadAndFinishes()
    {
        var a = new float[64 * 256];
        for (int i = 0; i < a.Length; i++) a[i] = (i % 13) - 6;
        var sums = new double[8];
        WithThreads(2, () => WorkerTeam.For(8, part =>
        {
            var c = new float[64 * 64];
            Gemm.Multiply(Matrix.Of(a, 64, 256), Matrix.Of(a, 64, 256).T, Matrix.Into(c, 64, 64));   // finds the team busy
            int inner = 0;
            WorkerTeam.For(4, _ => Interlocked.Increment(ref inner));
            sums[part] = inner + c[0];
        }));
        double expected = 4 + a.Take(256).Sum(x => (double)x * x);
        Assert.All(sums, s => Assert.Equal(expected, s));
    }

    /// <summary>
    /// Rounds that come back to back (workers still awake), a few hundred microseconds apart (waking as they
    /// fall asleep) and milliseconds apart (asleep): every round runs every index, and none hangs.
    /// </summary>
    [Fact]
    public void RoundsAtEveryPaceRunEveryIndex()
    {
        var rng = new Random(3);
        int wrong = 0;
        WithThreads(2, () =>
        {
            for (int round = 0; round < 600; round++)
            {
                int count = 2 + rng.Next(20), done = 0;
                WorkerTeam.For(count, _ => Interlocked.Increment(ref done));
                if (done != count) wrong++;
                int pause = rng.Next(3);
                if (pause == 1) Thread.SpinWait(rng.Next(20_000, 200_000));
                else if (pause == 2) Thread.Sleep(1);
            }
        });
        Assert.Equal(0, wrong);
    }

    /// <summary>
    /// Runs <paramref name="run"/> with the team at <paramref name="threads"/>, on a thread of its own, so that a
    /// lost wake-up fails the test in a minute instead of hanging the suite.
    /// </summary>
    private static void WithThreads(int threads, Action run)
    {
        int saved = Threads.Count;
        Threads.Count = threads;
        try
        {
            Exception? failure = null;
            var runner = new Thread(() => { try { run(); } catch (Exception e) { failure = e; } }) { IsBackground = true };
            runner.Start();
            Assert.True(runner.Join(TimeSpan.FromSeconds(60)), "the team did not finish within a minute");
            if (failure != null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        }
        finally { Threads.Count = saved; }
    }
}

[CollectionDefinition(nameof(WorkerTeamAlone), DisableParallelization = true)]
public sealed class WorkerTeamAlone;
