using System.CommandLine;
using RelpSae.Attribution;

namespace RelpSae.Cli;

/// <summary>The four evaluate protocols: single SAE features, whole components, sparse feature circuits, attribution graphs.</summary>
internal enum EvaluateProtocol { Features, Components, Circuit, Graphs }

/// <summary>
/// The options of one evaluate command: those the attribution protocols read (<see cref="Common"/>), each
/// protocol's own (<see cref="Of"/>) and all a protocol reads (<see cref="Read"/>). A protocol's command carries its
/// own set; the `evaluate` that picks the protocol with --level, --circuit or --graphs carries them all (but the graphs'
/// --saes and --methods: its own --saes and --methods name the transcoders and graph methods there) and refuses what the
/// picked one does not read.
/// </summary>
internal sealed class EvaluateOptions
{
    public readonly Option<string?> Prompts = new("--prompts") { Description = "JSONL prompt file: {\"prompt\", \"target\", \"foil\", \"corrupt\"} per line." };
    public readonly Option<string?> Task = new("--task") { Description = "Built-in prompt set: ioi (GPT-2 tokenizer) or contrastive (the default model). [default: contrastive]" };
    public readonly Option<int> N = new("--n") { Description = "Number of prompts of a built-in task.", DefaultValueFactory = _ => 60 };
    public readonly Option<int> Seed = new("--seed") { Description = "Seed of the IOI generator.", DefaultValueFactory = _ => 0 };
    public readonly Option<string> Model = CliDefaults.ModelOption();
    public readonly Option<string> Methods = new("--methods") { Description = $"Comma list: {AttributionMethods.Names}.", DefaultValueFactory = _ => "gradient,ig,relp,relp-ah" };
    public readonly Option<int> IgSteps = new("--ig-steps") { Description = $"Integrated-gradients steps (at most {IntegratedGradients.MaxSteps}).", DefaultValueFactory = _ => 32 };
    public readonly Option<string?> Metric = new("--metric") { Description = "logit | logit-diff | logprob. [default: logit-diff with a foil or corrupted prompt, else logit]" };
    public readonly Option<string?> Baseline = new("--baseline") { Description = "auto | zero | mean | corrupt: what features are patched to (auto: the corrupted prompt if given, else zero). [default: auto]" };
    public readonly Option<string?> Shard = new("--shard") { Description = "i/n: evaluate only prompts whose index is i modulo n (for job arrays; combine with merge)." };
    public readonly Option<string> Output = new("--out") { Description = "Output folder.", Required = true };
    public readonly Option<bool> Resume = new("--resume") { Description = "Continue an interrupted run in --out, skipping prompts already evaluated." };
    public readonly Option<bool> Center = CliDefaults.CenterOption();
    public readonly Option<bool> Bos = CliDefaults.PrependBosOption();
    public readonly Option<string?> Json = JsonOutput.Option("results.json's summary");

    public readonly Option<string> Sae = CliDefaults.SaeOption(transcoders: true);
    public readonly Option<int?> Position = new("--patch-position") { Description = "Patch features at this position only. [default: at every position]" };
    public readonly Option<int> Batch = new("--batch") { Description = "Features (or components) patched per ground-truth forward pass.", DefaultValueFactory = _ => 32 };
    public readonly Option<string?> Components = new("--components") { Description = "With --level components: comma list of types (resid_pre, attn_out, mlp_out, head) or hooks (blocks.L.hook_mlp_out, blocks.L.attn.hook_z, ...). [default: all]" };
    public readonly Option<string?> Saes = SaeSetOptions.SaesOption();
    public readonly Option<bool> PerPosition = SaeSetOptions.PerPositionOption();
    public readonly Option<string?> Transcoders = GraphCliOptions.Transcoders();
    public readonly Option<string> GraphMethods = GraphCliOptions.Methods("Graph methods (replacement, gradient, ig, a RelP preset or rule list): the first one's graph is pruned and its kept edges measured against patching beside every method's weight for them; each method's graph gets a faithfulness curve.");
    public readonly Option<double> NodeThreshold = GraphCliOptions.NodeThreshold();
    public readonly Option<double> EdgeThreshold = GraphCliOptions.EdgeThreshold();
    public readonly Option<int> MaxFeatureNodes = GraphCliOptions.MaxFeatureNodes();

    public Option[] Common => [Prompts, Task, N, Seed, Model, Methods, IgSteps, Metric, Baseline, Shard, Output, Resume, Center, Bos, Json];

    /// <summary>The options only <paramref name="protocol"/> reads, besides <see cref="Common"/>.</summary>
    public Option[] Of(EvaluateProtocol protocol) => protocol switch
    {
        EvaluateProtocol.Features => [Sae, Position, Batch],
        EvaluateProtocol.Components => [Batch, Components],
        EvaluateProtocol.Circuit => [Saes, PerPosition],
        _ => [Transcoders, GraphMethods, NodeThreshold, EdgeThreshold, MaxFeatureNodes],
    };

    /// <summary>Every option <paramref name="protocol"/> reads, in help's order; graphs read no attribution method's settings.</summary>
    public Option[] Read(EvaluateProtocol protocol) => protocol == EvaluateProtocol.Graphs
        ? [Prompts, Task, N, Seed, Model, Transcoders, GraphMethods, IgSteps, NodeThreshold, EdgeThreshold, MaxFeatureNodes, Shard, Output, Resume, Bos, Json]
        : [.. Common, .. Of(protocol)];

    /// <summary>The values every protocol reads.</summary>
    public EvaluationRun Bind(ParseResult parse) => new(parse, parse.GetValue(Prompts), parse.GetValue(Task), parse.GetValue(N), parse.GetValue(Seed),
        CliDefaults.ModelPath(parse.GetValue(Model)), parse.GetValue(Methods)!, parse.GetValue(IgSteps), parse.GetValue(Metric), parse.GetValue(Baseline),
        parse.GetValue(Shard), parse.GetValue(Output)!, parse.GetValue(Resume), parse.GetValue(Center), parse.GetValue(Bos), JsonOutput.Target(parse, Json));
}

/// <summary>The settings every evaluate protocol reads, bound from its options (<see cref="EvaluateOptions.Bind"/>).</summary>
internal sealed record EvaluationRun(ParseResult Parse, string? Prompts, string? Task, int N, int Seed, string Model, string Methods, int IgSteps,
    string? Metric, string? Baseline, string? Shard, string Output, bool Resume, bool Center, bool Bos, string? Json);
