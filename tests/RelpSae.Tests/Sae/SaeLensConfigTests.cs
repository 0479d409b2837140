using System.Text.Json.Nodes;
using RelpSae.Sae;

namespace RelpSae.Tests.Sae;

public class SaeLensConfigTests
{
    // cfg.json of gpt2-small-res-jb (jbloom/GPT2-Small-SAEs-Reformatted, blocks.0.hook_resid_pre): a
    // pre-1.0 SAELens training config, Python json.dump layout, no architecture/activation keys at all.
    private const string Pre6ResJb = """
        {"model_name": "gpt2-small", "hook_point": "blocks.0.hook_resid_pre", "hook_point_layer": 0, "hook_point_head_index": null, "dataset_path": "Skylion007/openwebtext", "is_dataset_tokenized": false, "context_size": 128, "use_cached_activations": false, "cached_activations_path": "activations/Skylion007_openwebtext/gpt2-small/blocks.0.hook_resid_pre", "d_in": 768, "n_batches_in_buffer": 128, "total_training_tokens": 300000000, "store_batch_size": 32, "device": "mps", "seed": 42, "dtype": "torch.float32", "b_dec_init_method": "geometric_median", "expansion_factor": 32, "from_pretrained_path": null, "l1_coefficient": 8e-05, "lr": 0.0004, "lr_scheduler_name": null, "lr_warm_up_steps": 5000, "train_batch_size": 4096, "use_ghost_grads": false, "feature_sampling_window": 1000, "feature_sampling_method": null, "resample_batches": 1028, "feature_reinit_scale": 0.2, "dead_feature_window": 5000, "dead_feature_estimation_method": "no_fire", "dead_feature_threshold": 1e-08, "log_to_wandb": true, "wandb_project": "mats_sae_training_gpt2_small_resid_pre_5", "wandb_entity": null, "wandb_log_frequency": 100, "n_checkpoints": 10, "checkpoint_path": "checkpoints/y1t51byy", "d_sae": 24576, "tokens_per_buffer": 67108864, "run_name": "24576-L1-8e-05-LR-0.0004-Tokens-3.000e+08"}
        """;

    // SAELens 3.x–5.x SAE.save_model: flat, hook_name, activation_fn_str + activation_fn_kwargs.
    private const string V5TopK = """
        {"architecture": "standard", "d_in": 2304, "d_sae": 65536, "activation_fn_str": "topk", "apply_b_dec_to_input": true, "finetuning_scaling_factor": false, "context_size": 128, "model_name": "gemma-2-2b", "hook_name": "blocks.12.hook_resid_post", "hook_layer": 12, "hook_head_index": null, "prepend_bos": true, "dataset_path": "monology/pile-uncopyrighted", "dataset_trust_remote_code": true, "normalize_activations": "none", "dtype": "float32", "device": "cpu", "sae_lens_training_version": null, "activation_fn_kwargs": {"k": 20}, "neuronpedia_id": null, "model_from_pretrained_kwargs": {}, "seqpos_slice": [null]}
        """;

    private const string V5JumpRelu = """
        {"architecture": "jumprelu", "d_in": 2304, "d_sae": 16384, "activation_fn_str": "relu", "apply_b_dec_to_input": false, "finetuning_scaling_factor": false, "context_size": 1024, "model_name": "gemma-2-2b", "hook_name": "blocks.20.hook_resid_post", "hook_layer": 20, "hook_head_index": null, "prepend_bos": true, "dataset_path": "monology/pile-uncopyrighted", "dataset_trust_remote_code": true, "normalize_activations": null, "dtype": "float32", "device": "cpu", "sae_lens_training_version": null, "activation_fn_kwargs": {}, "neuronpedia_id": null, "model_from_pretrained_kwargs": {}, "seqpos_slice": [null]}
        """;

    // SAELens 6.x SAE.save_model: json.dump(SAEConfig.to_dict()): dataclass fields in order, the
    // metadata block, then the subclass' fields, architecture last.
    private const string V6TopK = """
        {"d_in": 768, "d_sae": 24576, "dtype": "float32", "device": "cpu", "apply_b_dec_to_input": true, "normalize_activations": "none", "reshape_activations": "none", "metadata": {"sae_lens_version": "6.5.1", "sae_lens_training_version": "6.5.1", "model_name": "gpt2", "hook_name": "blocks.8.hook_resid_pre", "hook_head_index": null, "model_class_name": "HookedTransformer", "prepend_bos": true, "exclude_special_tokens": false, "context_size": 128, "seqpos_slice": [null], "dataset_path": "monology/pile-uncopyrighted", "model_from_pretrained_kwargs": {"center_writing_weights": false}, "neuronpedia_id": null}, "k": 100, "rescale_acts_by_decoder_norm": false, "architecture": "topk"}
        """;

    [Fact]
    public void ReadsThePre6ResidualSaeConfig()
    {
        var c = SaeLensConfig.Parse(Pre6ResJb, "cfg.json");
        Assert.Equal(SaeArchitecture.Standard, c.Architecture);
        Assert.Equal((768, 24576), (c.DIn, c.DSae));
        Assert.Equal("blocks.0.hook_resid_pre", c.HookName);
        Assert.Equal("gpt2-small", c.ModelName);
        Assert.Equal(128, c.ContextSize);
        Assert.Equal("Skylion007/openwebtext", c.DatasetPath);
        Assert.True(c.ApplyBDecToInput); // SAELens' default when the key is absent
        Assert.Null(c.PrependBos);
        Assert.Equal("none", c.NormalizeActivations);
        Assert.Equal(8e-05, c.Extra["l1_coefficient"]!.GetValue<double>());
        Assert.False(c.Extra.ContainsKey("d_in"));
    }

    [Fact]
    public void ReadsAPre6TopKGivenAsAnActivationFunction()
    {
        var c = SaeLensConfig.Parse(V5TopK, "cfg.json");
        Assert.Equal(SaeArchitecture.TopK, c.Architecture);
        Assert.Equal(20, c.K);
        Assert.Equal("blocks.12.hook_resid_post", c.HookName);
        Assert.True(c.PrependBos);
    }

    [Fact]
    public void ReadsAPre6JumpRelu()
    {
        var c = SaeLensConfig.Parse(V5JumpRelu, "cfg.json");
        Assert.Equal(SaeArchitecture.JumpRelu, c.Architecture);
        Assert.False(c.ApplyBDecToInput);
        Assert.Equal("none", c.NormalizeActivations); // null means none
        Assert.Equal(1024, c.ContextSize);
    }

    [Fact]
    public void Reads6xLayoutWithMetadataBlock()
    {
        var c = SaeLensConfig.Parse(V6TopK, "cfg.json");
        Assert.Equal(SaeArchitecture.TopK, c.Architecture);
        Assert.Equal((768, 24576, 100), (c.DIn, c.DSae, c.K));
        Assert.Equal("blocks.8.hook_resid_pre", c.HookName);
        Assert.Equal("gpt2", c.ModelName);
        Assert.Equal(128, c.ContextSize);
        Assert.True(c.PrependBos);
        Assert.Equal("monology/pile-uncopyrighted", c.DatasetPath);
        Assert.Equal("6.5.1", c.Extra["sae_lens_version"]!.GetValue<string>());
        Assert.False(c.Extra["model_from_pretrained_kwargs"]!["center_writing_weights"]!.GetValue<bool>());
    }

    [Theory]
    [InlineData("true", "expected_average_only_in")]
    [InlineData("false", "none")]
    [InlineData("\"expected_average_only_in\"", "expected_average_only_in")]
    public void NormalizeActivationsAcceptsBothEras(string value, string expected)
    {
        var c = SaeLensConfig.Parse($$"""{"d_in": 4, "d_sae": 8, "normalize_activations": {{value}}}""", "cfg.json");
        Assert.Equal(expected, c.NormalizeActivations);
    }

    [Fact]
    public void WritesThe6xLayoutAndReadsItBack()
    {
        var original = SaeLensConfig.Parse(V6TopK, "cfg.json") with { DatasetPath = "local:corpus.txt" };
        original.Extra["relp_sae_packing"] = new JsonObject { ["bos_per_context"] = true };
        string written = SaeLensConfig.Write(original);

        var root = JsonNode.Parse(written)!.AsObject();
        Assert.Equal(["d_in", "d_sae", "dtype", "device", "apply_b_dec_to_input", "normalize_activations",
            "reshape_activations", "metadata", "k", "rescale_acts_by_decoder_norm", "architecture"],
            root.Select(p => p.Key));
        Assert.Equal("topk", root["architecture"]!.GetValue<string>());
        Assert.Equal("blocks.8.hook_resid_pre", root["metadata"]!["hook_name"]!.GetValue<string>());

        var back = SaeLensConfig.Parse(written, "cfg.json");
        Assert.Equal(original with { Extra = back.Extra }, back);
        Assert.Equal(original.Extra.ToJsonString(), back.Extra.ToJsonString());
        Assert.Equal(written, SaeLensConfig.Write(back));
    }

    [Fact]
    public void WrittenConfigCarriesA6xVersionSoSaeLensKeepsTheMetadata()
    {
        var c = new SaeConfig { Architecture = SaeArchitecture.JumpRelu, DIn = 4, DSae = 8, HookName = "blocks.1.hook_resid_pre" };
        var metadata = JsonNode.Parse(SaeLensConfig.Write(c))!["metadata"]!;
        Assert.Equal(SaeLensConfig.LayoutVersion, metadata["sae_lens_version"]!.GetValue<string>());
        Assert.StartsWith("6.", SaeLensConfig.LayoutVersion);
    }

    [Theory]
    [InlineData("""{"d_in": 4, "d_sae": 8, "architecture": "gated"}""", "architecture 'gated'")]
    [InlineData("""{"d_in": 4, "d_sae": 8, "activation_fn_str": "tanh-relu"}""", "activation function 'tanh-relu'")]
    [InlineData("""{"d_sae": 8}""", "missing d_in")]
    [InlineData("""{"d_in": 4.5, "d_sae": 8}""", "'d_in' must be an integer")]
    [InlineData("""{"d_in": 4, "d_sae": 8, "architecture": "topk"}""", "without k")]
    [InlineData("""{"d_in": 4, "d_sae": 8, "architecture": "topk", "k": 9}""", "1 <= k <= d_sae")]
    [InlineData("""{"d_in": 4, "d_sae": 8, "normalize_activations": "layer_norm"}""", "'layer_norm' is not supported")]
    [InlineData("""{"d_in": 4, "d_sae": 8, "metadata": {"hook_head_index": 3}}""", "hook_head_index 3")]
    [InlineData("""[1, 2]""", "expected a JSON object")]
    [InlineData("""{"d_in": 4,""", "not valid JSON")]
    public void BadConfigsAreOneLineErrorsNamingTheFile(string json, string expected)
    {
        var e = Assert.Throws<RelpSaeException>(() => SaeLensConfig.Parse(json, "x/cfg.json"));
        Assert.StartsWith("x/cfg.json: ", e.Message);
        Assert.Contains(expected, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }
}
