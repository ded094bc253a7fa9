"""Pages of the original reports, with the cited passage highlighted: words and boxes from the PDF's
text layer (`words`), the passage found among them (`locate`), drawn (`render`), kept on disk
(`cache`), and the whole for a chunk id (`service`)."""
from .service import PageImage, PageViews

__all__ = ["PageImage", "PageViews"]
