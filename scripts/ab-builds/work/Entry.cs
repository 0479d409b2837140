using RelpSae.Benchmarks;
using RelpSae.Lrp;
using RelpSae.Model;
using RelpSae.Numerics;
/// <summary>
/// The workloads: gemm THREADS M K N [T] [bf16] | attn TOKENS [forward] | pass THREADS BATCH TOKENS forward|backward|relp.
/// `pass` restates the bench's model workload (ModelBenchmark.Run: its hook, metric and run options) from public members
/// that older builds have too, so that a build from before any new helper can still be side A.
/// </summary>
public static class Entry
{
    public static Action Create(string[] a)
    {
        if (a[0] == "gemm")
        {
            int threads = int.Parse(a[1]), M = int.Parse(a[2]), K = int.Parse(a[3]), N = int.Parse(a[4]);
            Threads.Count = threads; var rng = new Random(0);
            var b = new float[(long)K * N]; for (long i = 0; i < b.Length; i++) b[i] = rng.NextSingle() - 0.5f;
            var w = new PackedMatrix(Matrix.Of(b, K, N), a.Contains("bf16") ? PanelElement.BFloat16 : PanelElement.Float32);
            var x = new float[M * K]; for (int i = 0; i < x.Length; i++) x[i] = rng.NextSingle();
            var c = new float[M * N];
            bool t = a.Contains("T");
            var dy = new float[M * N]; for (int i = 0; i < dy.Length; i++) dy[i] = rng.NextSingle();
            var dx = new float[M * K];
            return t ? () => Gemm.Multiply(Matrix.Of(dy, M, N), w.T, Matrix.Into(dx, M, K)) : () => Gemm.Multiply(Matrix.Of(x, M, K), w, Matrix.Into(c, M, N));
        }
        if (a[0] == "attn")
        {
            int T = int.Parse(a[1]); Threads.Count = 1;
            int heads = 12, dh = 64, d = heads * dh; var rng = new Random(0);
            var qkv = new float[T * 3 * d]; for (int i = 0; i < qkv.Length; i++) qkv[i] = rng.NextSingle() - 0.5f;
            var pattern = new float[heads * T * T]; var z = new float[T * d];
            var dz = new float[T * d]; for (int i = 0; i < dz.Length; i++) dz[i] = rng.NextSingle() - 0.5f;
            var dqkv = new float[T * 3 * d];
            return () =>
            {
                for (int h = 0; h < heads; h++) Attention.Forward(qkv, pattern.AsSpan(h * T * T, T * T), z, T, h, d, dh);
                if (a.Length > 2 && a[2] == "forward") return;
                for (int h = 0; h < heads; h++) Attention.Backward(qkv, pattern.AsSpan(h * T * T, T * T), dz, dqkv, T, h, d, dh, AttentionShares.Gradient);
            };
        }
        {
            int threads = int.Parse(a[1]), batch = int.Parse(a[2]), tokens = int.Parse(a[3]); string what = a[4];
            Threads.Count = threads;
            var model = new Gpt2(Gpt2Weights.Random(ModelBenchmark.Gpt2Small, seed: 0));
            var hook = model.Facts.ParseHook("blocks.6.hook_resid_pre");
            var metric = new Metric(MetricKind.Logit, ModelBenchmark.Target);
            var rng = new Random(1);
            var ids = Enumerable.Range(0, batch * tokens).Select(_ => rng.Next(50257)).ToArray();
            return () =>
            {
                if (what == "forward") { model.Forward(ids, batch, new RunOptions { Logits = LogitRows.All }).Dispose(); return; }
                using var run = model.Forward(ids, batch, new RunOptions { KeepForBackward = true, Logits = LogitRows.None, OutputPositions = [metric.Position] });
                run.Backward(metric, hook, what == "relp" ? PropagationRules.RelP : PropagationRules.Gradient);
            };
        }
    }
}
