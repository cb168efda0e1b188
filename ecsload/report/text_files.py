"""The run's text files that report.html shows as they were printed, with their headings.

Apart from the page's code so that the report command can read them before it
imports the charts.
"""

TEXT_FILES = (("thresholds.txt", "Thresholds"), ("comparison.txt", "Comparison with the baseline"))
