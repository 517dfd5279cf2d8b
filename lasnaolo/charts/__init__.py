"""Altair chart builders and the tables beside them. They take small, already aggregated and
suppressed frames and return charts; numbers on axes and in tooltips follow the user's language
(decimal comma in fi / sv). One module per page's seam, the look in `style`, what the browser may
receive in `shown`; every builder is named here, so pages call `charts.<builder>`.

Colours come from the Okabe-Ito palette, which stays distinguishable with the common forms of
colour blindness, and each category keeps its colour in every chart.
"""

from lasnaolo.charts.style import (OKABE_ITO, CATEGORY_COLOURS, TIER_COLOURS, CURRENT_COLOUR, EARLIER_COLOUR,
                                   FOCUS_COLOUR, CONTEXT_COLOUR, BETTER_COLOUR, WORSE_COLOUR, NO_DATA_GREY,
                                   TEXT_GREY, TIER_AXIS, LINE_LEGEND, percent_axis_labels, month_name,
                                   SERIES_COLOURS, SERIES_DASHES, CLUSTER_COLOURS, STATUS_COLOURS,
                                   NUMBER_LOCALES, keeps_own_size, as_shown, SLIDE_TEXT, SLIDE_TITLE_TEXT,
                                   for_slide)
from lasnaolo.charts.shown import (browser_spec, only_encoded_fields, only_what_is_shown)
from lasnaolo.charts.labels import (pupils_column, pupils_or_class, school_names, metric_label, target_units,
                                    unit_names, month_labels)
from lasnaolo.charts.overview import (seasonal_rate_chart, tier_chart, seasonal_rate_table, tier_table,
                                      tier_shares)
from lasnaolo.charts.deck import headline_chart, figures_chart
from lasnaolo.charts.trends import (category_chart, category_table_long, category_table, tier_trend_chart,
                                    tier_trend_table, group_trend_chart, group_trend_table, ranking_chart,
                                    ranking_table, region_tile_frame, region_tile_chart, region_tile_table,
                                    choropleth_chart, wellbeing_chart, MAX_NAMED_DOTS, wellbeing_table)
from lasnaolo.charts.comparison import (funnel_chart, funnel_table, attention_table, school_vs_peers_chart,
                                        school_vs_peers_table, grades_vs_peers_chart, grades_vs_peers_table,
                                        tiers_vs_peers_chart, tiers_vs_peers_table, reference_name,
                                        wellbeing_profile_chart, wellbeing_profile_table, outliers_table)
from lasnaolo.charts.risk import (cluster_profile_chart, cluster_profile_table, cluster_sizes_table,
                                  cluster_scatter_chart, cluster_members_table, factors_chart, factors_table,
                                  silhouette_table)
from lasnaolo.charts.targets import (targets_table, target_progress_chart, target_progress_table,
                                     target_history_table, status_counts_chart, status_counts_table)
from lasnaolo.charts.impact import (event_study_chart, event_study_table, impact_groups_table,
                                    impact_balance_table, impact_schools_table)
from lasnaolo.charts.evaluation import (evaluation_profile_table, evaluation_profile_chart,
                                        evaluation_notes_table)

__all__ = ["OKABE_ITO", "CATEGORY_COLOURS", "TIER_COLOURS", "CURRENT_COLOUR", "EARLIER_COLOUR",
           "FOCUS_COLOUR", "CONTEXT_COLOUR", "BETTER_COLOUR", "WORSE_COLOUR", "NO_DATA_GREY", "TEXT_GREY",
           "TIER_AXIS", "LINE_LEGEND", "percent_axis_labels", "month_name", "SERIES_COLOURS", "SERIES_DASHES",
           "CLUSTER_COLOURS", "STATUS_COLOURS", "NUMBER_LOCALES", "keeps_own_size", "as_shown", "SLIDE_TEXT",
           "SLIDE_TITLE_TEXT", "for_slide", "browser_spec", "only_encoded_fields", "only_what_is_shown",
           "pupils_column", "pupils_or_class", "school_names", "metric_label", "target_units", "unit_names",
           "month_labels", "seasonal_rate_chart", "tier_chart", "seasonal_rate_table", "tier_table",
           "tier_shares", "headline_chart", "figures_chart", "category_chart", "category_table_long",
           "category_table", "tier_trend_chart", "tier_trend_table", "group_trend_chart", "group_trend_table",
           "ranking_chart", "ranking_table", "region_tile_frame", "region_tile_chart", "region_tile_table",
           "choropleth_chart", "wellbeing_chart", "MAX_NAMED_DOTS", "wellbeing_table", "funnel_chart",
           "funnel_table", "attention_table", "school_vs_peers_chart", "school_vs_peers_table",
           "grades_vs_peers_chart", "grades_vs_peers_table", "tiers_vs_peers_chart", "tiers_vs_peers_table",
           "reference_name", "wellbeing_profile_chart", "wellbeing_profile_table", "outliers_table",
           "cluster_profile_chart", "cluster_profile_table", "cluster_sizes_table", "cluster_scatter_chart",
           "cluster_members_table", "factors_chart", "factors_table", "silhouette_table", "targets_table",
           "target_progress_chart", "target_progress_table", "target_history_table", "status_counts_chart",
           "status_counts_table", "event_study_chart", "event_study_table", "impact_groups_table",
           "impact_balance_table", "impact_schools_table", "evaluation_profile_table",
           "evaluation_profile_chart", "evaluation_notes_table"]
