"""The run's text files that report.html shows as they were printed, with their headings.

Apart from the page's code so that the report command can read them before it
imports the charts.
"""

from ecsload.run_folder import COMPARISON_TEXT, THRESHOLDS_TEXT

TEXT_FILES = ((THRESHOLDS_TEXT, "Thresholds"), (COMPARISON_TEXT, "Comparison with the baseline"))
