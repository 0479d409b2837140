using RelpSae.Attribution;
using RelpSae.Hub;
using RelpSae.Model;
using RelpSae.Prompts;
using RelpSae.Sae;

namespace RelpSae;

/// <summary>
/// The tool's main jobs in a few lines, taking models and SAEs as the command line does (a folder, a
/// Gemma Scope .npz or dictionary_learning .pt file, or a Hub name such as <c>gpt2</c> and
/// <c>gpt2-small-res-jb/blocks.6.hook_resid_pre</c>), and computing exactly what <c>relp-sae attribute</c>
/// and <c>relp-sae evaluate</c> compute:
/// <code>
/// var relp = Relp.Load("gpt2", "gpt2-small-res-jb/blocks.6.hook_resid_pre");
/// var result = relp.Attribute("When Mary and John went to the store, John gave a drink to", target: " Mary", foil: " John");
/// var faithfulness = relp.Evaluate(PromptFile.Read("prompts.jsonl"), "gradient,relp");
/// </code>
/// An SAE release's processing (centred writing weights, a BOS token before every prompt) is applied as the
/// release asks. Targets and foils must each be one token: a text of several tokens is refused, not cut.
/// </summary>
public sealed class Relp
{
    private Relp(ModelFolder model, SparseAutoencoder sae, HookPoint hook, bool prependBos)
    {
        Model = model;
        Sae = sae;
        Hook = hook;
        PrependBos = prependBos;
    }

    public ModelFolder Model { get; }
    public SparseAutoencoder Sae { get; }
    /// <summary>Where the SAE reads and is spliced: its cfg.json's hook_name.</summary>
    public HookPoint Hook { get; }
    /// <summary>Whether each prompt gets the start token in front (TransformerLens' default; what SAELens releases expect).</summary>
    public bool PrependBos { get; }

    /// <summary>Loads a model and an SAE by folder, file or Hub name (downloading into the Hugging Face cache what is missing).</summary>
    public static Relp Load(string model, string sae, bool centerWritingWeights = false, bool prependBos = false, HubSettings? hub = null)
    {
        var processing = LocalOrHub.ProcessingOf(sae);
        var modelDir = LocalOrHub.Model(model, hub) ?? throw new RelpSaeException($"model not found: {model} is neither a folder nor a Hub name");
        var saePath = LocalOrHub.Sae(sae, hub) ?? throw new RelpSaeException($"SAE not found: {sae} is neither a folder, an .npz or .pt file, nor a Hub name");
        var folder = ModelFolder.Load(modelDir, centerWritingWeights || processing.CenterWritingWeights);
        var autoencoder = SaeFiles.Load(saePath);
        return new Relp(folder, autoencoder, SaeFiles.Hook(autoencoder, folder.Facts, saePath), prependBos || processing.PrependBos);
    }

    /// <summary>
    /// Each method's attribution of the metric to the SAE's features: the logit of <paramref name="target"/>
    /// (or the model's top prediction), minus <paramref name="foil"/>'s when given; features patched to their
    /// values on <paramref name="corrupt"/> when given, else to zero.
    /// </summary>
    public FeatureAttribution Attribute(string prompt, string? target = null, string? foil = null, string? corrupt = null,
        string methods = "gradient,ig,relp")
    {
        var request = Resolver().Resolve(new PromptCase(prompt, target, foil, corrupt));
        var splice = SaeSplice.Create(Model.Transformer, Sae, Hook, request.Tokens, request.Baseline);
        var results = AttributionMethods.Parse(methods).Select(m => Attributor.Run(m, splice, request.Metric)).ToList();
        return new FeatureAttribution(request, Attributor.FullPatchDelta(splice, request.Metric), results);
    }

    /// <summary>
    /// Each method's faithfulness over the prompts: its scores against the true effect of patching every
    /// active feature, pooled with bootstrap intervals (what <c>evaluate</c> writes to results.json).
    /// </summary>
    public FaithfulnessReport Evaluate(IEnumerable<PromptCase> prompts, string methods = "gradient,ig,relp", int batch = 32)
    {
        var methodList = AttributionMethods.Parse(methods);
        var runner = new FaithfulnessRunner(methodList, new GroundTruth(batch));
        var resolver = Resolver();
        var records = prompts.Select((c, i) =>
        {
            var request = resolver.Resolve(c);
            return runner.Evaluate(i, request.Prompt, SaeSplice.Create(Model.Transformer, Sae, Hook, request.Tokens, request.Baseline), request.Metric);
        }).ToList();
        if (records.Count == 0) throw new RelpSaeException("no prompts to evaluate");
        return new FaithfulnessReport(records, MethodSummary.SummarizeAll([.. methodList.Select(m => m.Name)], records));
    }

    private PromptResolver Resolver() => new(Model.Transformer, Model.Tokenizer, prependBos: PrependBos);
}
