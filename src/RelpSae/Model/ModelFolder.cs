using RelpSae.Text;

namespace RelpSae.Model;

/// <summary>
/// A model folder loaded whole, whatever the family: the transformer and its tokenizer, or none when the
/// folder ships no tokenizer (then prompts, targets and data are given as token ids).
/// </summary>
public sealed class ModelFolder(ITransformer transformer, ITextTokenizer? tokenizer, string dir, Numerics.PanelElement? holding = null)
{
    public ITransformer Transformer { get; } = transformer;
    public ITextTokenizer? Tokenizer { get; } = tokenizer;
    public ModelFacts Facts { get; } = transformer.Facts;
    public string Dir { get; } = dir;

    /// <summary>
    /// Loads config.json, the weights (held as <paramref name="holding"/>; null: as stored) and the tokenizer if any
    /// (tokenizer.json, tokenizer.model, or vocab.json + merges.txt).
    /// </summary>
    public static ModelFolder Load(string dir, bool centerWritingWeights = false, Numerics.PanelElement? holding = null)
    {
        var transformer = LanguageModels.Load(dir, centerWritingWeights, holding);
        var tokenizer = TokenizerFiles.Load(dir);
        if (tokenizer is not null && tokenizer.VocabSize > transformer.Facts.VocabSize)
            throw new RelpSaeException($"{tokenizer.Source}: the tokenizer has {tokenizer.VocabSize} tokens, more than the model's vocabulary of {transformer.Facts.VocabSize}");
        return new ModelFolder(transformer, tokenizer, dir, holding);
    }

    /// <summary>The tokenizer, or a one-line error saying to give token ids instead (<paramref name="idsOption"/>).</summary>
    public ITextTokenizer RequireTokenizer(string idsOption) => Tokenizer
        ?? throw new RelpSaeException($"{Dir} has no tokenizer (tokenizer.json, tokenizer.model, or vocab.json + merges.txt): give token ids ({idsOption})");

    /// <summary>The text's token ids, with the start token in front when <paramref name="prependBos"/> (TransformerLens' default).</summary>
    public int[] Encode(string text, bool prependBos = false)
    {
        var ids = RequireTokenizer("token ids").Encode(text);
        return prependBos ? Generation.PrependBos(Facts, ids) : ids;
    }

    /// <summary>The id of a text that must be one token (a metric's target); a one-line error naming its ids otherwise.</summary>
    public int Token(string text) => RequireTokenizer("token ids").SingleToken(text, "the token");

    /// <summary>What the weights hold once loaded and packed (<see cref="MemoryEstimate"/>), from the files' headers.</summary>
    public MemoryEstimate Memory => memory ??= MemoryEstimate.Of(Dir, holding);
    private MemoryEstimate? memory;

    /// <summary>A token for display: its text, or #id without a tokenizer.</summary>
    public string TokenText(int id) => Tokenizer?.TokenText(id) ?? $"#{id}";
}
