using RelpSae.Text;

namespace RelpSae.Model;

/// <summary>A Hugging Face checkpoint folder loaded whole: the transformer (config + weights) and its tokenizer.</summary>
public sealed class Gpt2Model(Gpt2 transformer, Gpt2Tokenizer tokenizer)
{
    public Gpt2 Transformer { get; } = transformer;
    public Gpt2Tokenizer Tokenizer { get; } = tokenizer;
    public Gpt2Config Config => Transformer.Config;

    /// <summary>
    /// Loads config.json, the weights (model.safetensors or pytorch_model.bin) and the tokenizer
    /// (tokenizer.json, or vocab.json + merges.txt) from <paramref name="dir"/>.
    /// </summary>
    public static Gpt2Model Load(string dir, bool centerWritingWeights = false)
    {
        var transformer = Gpt2.Load(dir, centerWritingWeights);
        var tokenizer = Gpt2Tokenizer.Load(dir);
        if (tokenizer.VocabSize > transformer.Config.VocabSize)
            throw new RelpSaeException($"{dir}: the tokenizer has {tokenizer.VocabSize} tokens, more than the model's vocabulary of {transformer.Config.VocabSize}");
        return new Gpt2Model(transformer, tokenizer);
    }

    /// <summary>The prompt's token ids, with &lt;|endoftext|&gt; in front when <paramref name="prependBos"/> (TransformerLens' default).</summary>
    public int[] Encode(string prompt, bool prependBos = false)
    {
        var ids = Tokenizer.Encode(prompt);
        return prependBos ? Generation.PrependBos(Config, ids) : ids;
    }
}
