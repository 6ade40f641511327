"""What leaves the app for people: shared display formatting (pages and PDFs alike), and
the PDF summaries. Nothing here imports a view."""
