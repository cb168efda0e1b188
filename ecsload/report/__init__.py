"""What a user reads of the figures ecsload.analysis makes: the text tables, the summary
files, thresholds.txt, comparison.txt, junit.xml, the live line, report.html and its charts."""
