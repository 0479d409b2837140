using RelpSae.Model;
using RelpSae.Numerics;
using RelpSae.Sae;

namespace RelpSae.Graphs;

/// <summary>
/// The dictionaries an attribution graph is built over: transcoders, one per MLP (<see cref="TranscoderSet"/>), or
/// residual-stream SAEs, one per block's hook_resid_post. An SAE is taken as a transcoder from its hook to that same
/// hook — features encoded from x, the reconstruction and the error node ε = x − x̂ written back there — with its input
/// shift folded into its encoder bias ((x − b_dec)·W_enc + b_enc = x·W_enc + b_enc − b_dec·W_enc), so that every step
/// of a graph (splice, seeds, held nodes, targets) serves both. SAEs at attention or MLP outputs, or at other residual
/// hooks, are refused, as are transcoders and SAEs in one graph.
/// </summary>
public static class GraphDictionaries
{
    /// <summary>A comma list of dictionaries or folders of them, as <see cref="SaeSet.Load"/> reads it.</summary>
    public static IReadOnlyList<HookedTranscoder> Load(string spec, ModelFacts facts)
    {
        var paths = spec.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).SelectMany(SaeSet.Members).ToArray();
        if (paths.Length == 0) throw new RelpSaeException("no transcoder or SAE given");
        var transcoders = paths.Where(TranscoderFiles.IsTranscoder).ToArray();
        if (transcoders.Length == paths.Length) return TranscoderSet.Load(string.Join(',', paths), facts);
        if (transcoders.Length > 0)
            throw new RelpSaeException($"{transcoders[0]} is a transcoder but {paths.First(p => !TranscoderFiles.IsTranscoder(p))} is an SAE: "
                + "an attribution graph is over transcoders or over residual-stream SAEs, not both");
        return [.. SaeSet.Check([.. paths.Select(p => SaeSet.Hooked(p, facts))], facts).Select(AtResidual)];
    }

    /// <summary>An SAE at a block's hook_resid_post as a transcoder from that hook to itself; one anywhere else is refused.</summary>
    public static HookedTranscoder AtResidual(HookedSae sae)
    {
        if (sae.IsTranscoder || sae.Hook.Kind != HookKind.ResidPost)
            throw new RelpSaeException($"{sae.Folder}: an SAE at {sae.Hook}; an attribution graph takes residual-stream SAEs at blocks.N.hook_resid_post "
                + "(each block's output), or transcoders");
        var dictionary = sae.Sae.Clone(sae.Sae.Config with { ApplyBDecToInput = false });
        if (sae.Sae.Config.ApplyBDecToInput)
        {
            var shift = new float[sae.Sae.DSae];
            Gemm.Multiply(Matrix.Of(sae.Sae.BDec, 1, sae.Sae.DIn), Matrix.Of(sae.Sae.WEnc, sae.Sae.DIn, sae.Sae.DSae), Matrix.Into(shift, 1, sae.Sae.DSae));
            System.Numerics.Tensors.TensorPrimitives.Subtract(dictionary.BEnc, shift, dictionary.BEnc);
        }
        return new HookedTranscoder(sae.Folder, new Transcoder(dictionary, sae.Hook.Name, sae.Hook.Name), sae.Hook, sae.Hook);
    }

    /// <summary>Whether a graph's dictionaries are residual-stream SAEs (each reads and writes one hook), not transcoders.</summary>
    public static bool AreResidualSaes(IReadOnlyList<HookedTranscoder> set) => set.Count > 0 && set[0].Input == set[0].Output;
}
