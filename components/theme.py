"""NHS identity and the colour-blind-safe palette shared by every figure and page."""

NHS_BLUE = "#005EB8"
NHS_DARK_BLUE = "#003087"
NHS_DARK_GREY = "#425563"
NHS_MID_GREY = "#768692"
NHS_PALE_GREY = "#E8EDEE"
NHS_WARM_YELLOW = "#FFB81C"
TEXT = "#212B32"
FONT = "Arial, 'Helvetica Neue', Helvetica, sans-serif"

# Okabe-Ito: distinguishable with the common colour-vision deficiencies.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000",
           "#F0E442")
UNKNOWN_GROUP = "#9AA5AE"

# Fingertips-style comparison colours (with a text label always alongside).
COMPARISON = {"better": "#007F3B", "similar": "#FFB81C", "worse": "#D5281B",
              "higher": "#005EB8", "lower": "#7FA8DC", "not compared": "#AEB7BD"}
# Making Data Count SPC colours (NHSRplotthedots ptd_spc_colours).
SPC = {"common_cause": "#A6A6A6", "special_cause_improvement": "#00B0F0",
       "special_cause_concern": "#E46C0A", "special_cause_neutral_high": "#490092",
       "special_cause_neutral_low": "#490092", "target": "#DE1B1B"}
