/*-
 * Derived from common-sign-gost, file
 * common-sign-smev3/src/main/java/ru/i_novus/common/sign/smev3/SmevTransformSpi.java
 * Copyright (C) 2018 - 2019 I-Novus LLC
 * Licensed under the Apache License, Version 2.0 (the "License"); you may not use this file except in
 * compliance with the License. You may obtain a copy of the License at
 *      http://www.apache.org/licenses/LICENSE-2.0
 * Unless required by applicable law or agreed to in writing, software distributed under the License is
 * distributed on an "AS IS" BASIS, WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or
 * implied. See the License for the specific language governing permissions and limitations under the
 * License.
 *
 * Modifications for mse-gateway's tests (2025): the Apache Santuario TransformSpi wrapper, logging and
 * commons-lang were removed so that the class compiles with the JDK alone; process() is unchanged in
 * substance (isEmpty() re-implemented); main() reads length-prefixed documents from stdin and writes
 * length-prefixed results to stdout so that one JVM can transform many generated documents.
 * This is a TEST ORACLE only: the gateway never runs Java.
 */

import javax.xml.stream.*;
import javax.xml.stream.events.*;
import java.io.*;
import java.nio.charset.StandardCharsets;
import java.util.*;

public final class SmevTransformRef {

    private static boolean isEmpty(String s) {
        return s == null || s.isEmpty();
    }

    public static void process(InputStream argSrc, OutputStream argDst) throws XMLStreamException {
        Deque<List<Namespace>> prefixMappingStack = new LinkedList<>();
        XMLEventReader src = XMLInputFactory.newInstance().createXMLEventReader(argSrc, StandardCharsets.UTF_8.name());
        XMLEventWriter dst = XMLOutputFactory.newInstance().createXMLEventWriter(argDst, StandardCharsets.UTF_8.name());
        XMLEventFactory factory = XMLEventFactory.newInstance();
        int prefixCnt = 1;
        while (src.hasNext()) {
            XMLEvent event = src.nextEvent();
            if (event.isCharacters()) {
                String data = event.asCharacters().getData();
                if (!data.trim().isEmpty()) {
                    dst.add(event);
                }
            } else if (event.isStartElement()) {
                List<Namespace> myPrefixMappings = new LinkedList<>();
                prefixMappingStack.addFirst(myPrefixMappings);
                StartElement srcEvent = (StartElement) event;
                String nsURI = srcEvent.getName().getNamespaceURI();
                String prefix = findPrefix(nsURI, prefixMappingStack);
                if (prefix == null) {
                    prefix = "ns" + (prefixCnt++);
                    myPrefixMappings.add(factory.createNamespace(prefix, nsURI));
                }
                StartElement dstEvent = factory.createStartElement(prefix, nsURI, srcEvent.getName().getLocalPart());
                dst.add(dstEvent);
                Iterator<Attribute> srcAttributeIterator = srcEvent.getAttributes();
                List<Attribute> srcAttributeList = new LinkedList<>();
                while (srcAttributeIterator.hasNext()) {
                    srcAttributeList.add(srcAttributeIterator.next());
                }
                srcAttributeList.sort(new AttributeSortingComparator());
                List<Attribute> dstAttributeList = new LinkedList<>();
                for (Attribute srcAttribute : srcAttributeList) {
                    String attributeNsURI = srcAttribute.getName().getNamespaceURI();
                    String attributeLocalName = srcAttribute.getName().getLocalPart();
                    String value = srcAttribute.getValue();
                    Attribute dstAttribute;
                    if (!isEmpty(attributeNsURI)) {
                        String attributePrefix = findPrefix(attributeNsURI, prefixMappingStack);
                        if (attributePrefix == null) {
                            attributePrefix = "ns" + (prefixCnt++);
                            myPrefixMappings.add(factory.createNamespace(attributePrefix, attributeNsURI));
                        }
                        dstAttribute = factory.createAttribute(attributePrefix, attributeNsURI, attributeLocalName, value);
                    } else {
                        dstAttribute = factory.createAttribute(attributeLocalName, value);
                    }
                    dstAttributeList.add(dstAttribute);
                }
                for (Namespace mapping : myPrefixMappings) {
                    dst.add(mapping);
                }
                for (Attribute attr : dstAttributeList) {
                    dst.add(attr);
                }
            } else if (event.isEndElement()) {
                dst.add(factory.createSpace(""));
                EndElement srcEvent = (EndElement) event;
                String nsURI = srcEvent.getName().getNamespaceURI();
                String prefix = findPrefix(nsURI, prefixMappingStack);
                if (prefix == null) {
                    throw new XMLStreamException("EndElement: prefix mapping is not found for namespace " + nsURI);
                }
                EndElement dstEvent = factory.createEndElement(prefix, nsURI, srcEvent.getName().getLocalPart());
                dst.add(dstEvent);
                prefixMappingStack.removeFirst();
            }
        }
        dst.close();
        src.close();
    }

    private static String findPrefix(String argNamespaceURI, Deque<List<Namespace>> argMappingStack) {
        if (argNamespaceURI == null) {
            throw new IllegalArgumentException("No namespace elements are not supported.");
        }
        for (List<Namespace> elementMappingList : argMappingStack) {
            for (Namespace mapping : elementMappingList) {
                if (argNamespaceURI.equals(mapping.getNamespaceURI())) {
                    return mapping.getPrefix();
                }
            }
        }
        return null;
    }

    private static class AttributeSortingComparator implements Comparator<Attribute> {
        @Override
        public int compare(Attribute x, Attribute y) {
            String xNS = x.getName().getNamespaceURI();
            String xLocal = x.getName().getLocalPart();
            String yNS = y.getName().getNamespaceURI();
            String yLocal = y.getName().getLocalPart();
            if (isEmpty(xNS) && isEmpty(yNS)) {
                return xLocal.compareTo(yLocal);
            }
            if (!isEmpty(xNS) && !isEmpty(yNS)) {
                int nsComparisonResult = xNS.compareTo(yNS);
                if (nsComparisonResult != 0) {
                    return nsComparisonResult;
                } else {
                    return xLocal.compareTo(yLocal);
                }
            }
            if (isEmpty(xNS)) {
                return 1;
            } else {
                return -1;
            }
        }
    }

    /** stdin: repeated [int32 length][bytes]; stdout: repeated [int32 status][int32 length][bytes]
     *  with status 0 = transformed output, 1 = error message (UTF-8); flushed after each document so a
     *  test can keep one JVM running and talk to it document by document. */
    public static void main(String[] args) throws IOException {
        DataInputStream in = new DataInputStream(new BufferedInputStream(System.in));
        DataOutputStream out = new DataOutputStream(new BufferedOutputStream(System.out));
        while (true) {
            int len;
            try {
                len = in.readInt();
            } catch (EOFException e) {
                break;
            }
            byte[] doc = new byte[len];
            in.readFully(doc);
            ByteArrayOutputStream result = new ByteArrayOutputStream();
            int status = 0;
            byte[] payload;
            try {
                process(new ByteArrayInputStream(doc), result);
                payload = result.toByteArray();
            } catch (Exception e) {
                status = 1;
                payload = String.valueOf(e).getBytes(StandardCharsets.UTF_8);
            }
            out.writeInt(status);
            out.writeInt(payload.length);
            out.write(payload);
            out.flush();
        }
        out.flush();
    }
}
