namespace RelpSae.Sae;

/// <summary>How an SAE turns encoder pre-activations into feature activations.</summary>
public enum SaeArchitecture
{
    /// <summary>f = ReLU(pre); SAELens "standard".</summary>
    Standard,
    /// <summary>f = ReLU(pre)·[pre &gt; θ] with a per-feature threshold θ; SAELens "jumprelu".</summary>
    JumpRelu,
    /// <summary>The k largest pre-activations of each row kept and ReLU'd, the rest zero; SAELens "topk".</summary>
    TopK,
}
