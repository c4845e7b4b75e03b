<!-- SchXslt 1.10.1 (https://github.com/schxslt/schxslt, tag v1.10.1, commit 17f63a42c2d4),
     file core/src/main/resources/xslt/2.0/pipeline-for-svrl.xsl, vendored unmodified below this comment.
     Copyright (c) 2018-2021 David Maus. MIT License: see LICENSE in this directory. -->
<xsl:transform version="2.0"
               xmlns:xsl="http://www.w3.org/1999/XSL/Transform">

  <xsl:include href="svrl.xsl"/>
  <xsl:include href="pipeline.xsl"/>

</xsl:transform>
