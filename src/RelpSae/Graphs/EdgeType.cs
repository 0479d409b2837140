namespace RelpSae.Graphs;

/// <summary>What an attribution-graph edge joins: its source node's kind and its target's.</summary>
public enum EdgeType { TokenToFeature, FeatureToFeature, ErrorToFeature, TokenToLogit, FeatureToLogit, ErrorToLogit }

public static class EdgeTypes
{
    public static readonly EdgeType[] All = Enum.GetValues<EdgeType>();

    /// <summary>The type's key in results.json, e.g. token_to_feature.</summary>
    public static string Key(EdgeType type) => type switch
    {
        EdgeType.TokenToFeature => "token_to_feature",
        EdgeType.FeatureToFeature => "feature_to_feature",
        EdgeType.ErrorToFeature => "error_to_feature",
        EdgeType.TokenToLogit => "token_to_logit",
        EdgeType.FeatureToLogit => "feature_to_logit",
        _ => "error_to_logit",
    };

    /// <summary>The type of the edge from <paramref name="source"/> to <paramref name="target"/> (a demeaned logit is a logit).</summary>
    public static EdgeType Of(EdgeSource source, EdgeTarget target)
    {
        bool logit = target.Kind != TargetKind.FeatureInput;
        return source.Kind switch
        {
            SourceKind.Token => logit ? EdgeType.TokenToLogit : EdgeType.TokenToFeature,
            SourceKind.Feature => logit ? EdgeType.FeatureToLogit : EdgeType.FeatureToFeature,
            _ => logit ? EdgeType.ErrorToLogit : EdgeType.ErrorToFeature,
        };
    }
}
