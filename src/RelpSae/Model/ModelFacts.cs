namespace RelpSae.Model;

/// <summary>
/// The facts about a model that callers need whatever its family: sizes, context, the start token, and
/// which structures the rules can act on (a gated MLP for the Half-rule; parallel attention and MLP,
/// which has no hook_resid_mid).
/// </summary>
public sealed record ModelFacts(
    string Architecture,    // config.json's architectures[0], e.g. LlamaForCausalLM
    int VocabSize,
    int Context,            // the longest sequence the model takes
    int DModel,
    int NLayers,
    int NHeads,
    int DHead,
    int DMlp,
    int BosTokenId,
    bool GatedMlp,
    bool ParallelResidual,
    string ContextKey = "max_position_embeddings",   // the config.json key that sets Context, for error messages
    string WidthKey = "hidden_size",                 // the config.json key that sets DModel
    bool LearnedPositions = false)                   // GPT-2's position embedding, with its hook_pos_embed
{
    /// <summary>The one-line complaint about an SAE whose input width is not the model's.</summary>
    public string WidthMismatch(int dIn) => $"the SAE's d_in is {dIn} but the model's width ({WidthKey}) is {DModel}";

    /// <summary>Whether a forward pass can restart from <paramref name="hook"/> and an SAE be spliced there (no hook_resid_mid with parallel attention and MLP).</summary>
    public bool IsResidual(HookPoint hook) => hook.IsResidual && !(ParallelResidual && hook.Kind == HookKind.ResidMid);

    /// <summary>Every hook point the family's forward pass offers, in order.</summary>
    public IEnumerable<HookPoint> HookPoints()
    {
        yield return new HookPoint(HookKind.Embed, -1);
        if (LearnedPositions) yield return new HookPoint(HookKind.PosEmbed, -1);
        for (int l = 0; l < NLayers; l++)
            foreach (var kind in (HookKind[])[HookKind.ResidPre, HookKind.AttnPattern, HookKind.AttnZ, HookKind.AttnOut, HookKind.ResidMid,
                         HookKind.MlpResidualIn, HookKind.Ln2Normalized, HookKind.MlpHookIn, HookKind.MlpPost, HookKind.MlpHookOut, HookKind.MlpOut, HookKind.ResidPost])
                if (!(ParallelResidual && kind == HookKind.ResidMid)) yield return new HookPoint(kind, l);
        yield return new HookPoint(HookKind.LnFinal, NLayers);
    }

    public HookPoint ParseHook(string name)
    {
        foreach (var hook in HookPoints())
            if (hook.Name == name) return hook;
        throw new RelpSaeException($"the {Architecture} model has no hook point \"{name}\"; valid: {string.Join(", ", HookPoints().Take(10).Select(h => h.Name))}, … (layers 0..{NLayers - 1})");
    }

    /// <summary>Width of one position's activation at <paramref name="hook"/>.</summary>
    public int Width(HookPoint hook, int tokens) => hook.Kind switch
    {
        HookKind.MlpPost => DMlp,
        HookKind.AttnPattern => NHeads * tokens,
        HookKind.AttnZ => NHeads * DHead,
        _ => DModel,
    };
}
