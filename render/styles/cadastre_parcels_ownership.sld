<?xml version="1.0" encoding="UTF-8"?>
<!-- Land parcels coloured by ownership form: a built-in alternative style,
     written in SLD to show the SLD that GetMap's SLD_BODY also accepts. -->
<StyledLayerDescriptor version="1.0.0" xmlns="http://www.opengis.net/sld" xmlns:ogc="http://www.opengis.net/ogc">
  <NamedLayer>
    <Name>cadastre_parcels</Name>
    <UserStyle>
      <Name>cadastre_parcels_ownership</Name>
      <Title>Поземлени имоти по вид собственост / Land parcels by ownership</Title>
      <FeatureTypeStyle>
        <Rule><Name>частна</Name><Title>частна / private</Title>
          <ogc:Filter><ogc:PropertyIsEqualTo><ogc:PropertyName>ownership</ogc:PropertyName><ogc:Literal>частна</ogc:Literal></ogc:PropertyIsEqualTo></ogc:Filter>
          <PolygonSymbolizer><Fill><CssParameter name="fill">#fbe3a1</CssParameter><CssParameter name="fill-opacity">0.6</CssParameter></Fill></PolygonSymbolizer>
        </Rule>
        <Rule><Name>държавна публична</Name><Title>държавна публична / state public</Title>
          <ogc:Filter><ogc:PropertyIsEqualTo><ogc:PropertyName>ownership</ogc:PropertyName><ogc:Literal>държавна публична</ogc:Literal></ogc:PropertyIsEqualTo></ogc:Filter>
          <PolygonSymbolizer><Fill><CssParameter name="fill">#4c6ef5</CssParameter><CssParameter name="fill-opacity">0.6</CssParameter></Fill></PolygonSymbolizer>
        </Rule>
        <Rule><Name>държавна частна</Name><Title>държавна частна / state private</Title>
          <ogc:Filter><ogc:PropertyIsEqualTo><ogc:PropertyName>ownership</ogc:PropertyName><ogc:Literal>държавна частна</ogc:Literal></ogc:PropertyIsEqualTo></ogc:Filter>
          <PolygonSymbolizer><Fill><CssParameter name="fill">#91a7ff</CssParameter><CssParameter name="fill-opacity">0.6</CssParameter></Fill></PolygonSymbolizer>
        </Rule>
        <Rule><Name>общинска публична</Name><Title>общинска публична / municipal public</Title>
          <ogc:Filter><ogc:PropertyIsEqualTo><ogc:PropertyName>ownership</ogc:PropertyName><ogc:Literal>общинска публична</ogc:Literal></ogc:PropertyIsEqualTo></ogc:Filter>
          <PolygonSymbolizer><Fill><CssParameter name="fill">#e03131</CssParameter><CssParameter name="fill-opacity">0.6</CssParameter></Fill></PolygonSymbolizer>
        </Rule>
        <Rule><Name>общинска частна</Name><Title>общинска частна / municipal private</Title>
          <ogc:Filter><ogc:PropertyIsEqualTo><ogc:PropertyName>ownership</ogc:PropertyName><ogc:Literal>общинска частна</ogc:Literal></ogc:PropertyIsEqualTo></ogc:Filter>
          <PolygonSymbolizer><Fill><CssParameter name="fill">#ff8787</CssParameter><CssParameter name="fill-opacity">0.6</CssParameter></Fill></PolygonSymbolizer>
        </Rule>
        <Rule><Name>смесена</Name><Title>смесена / mixed</Title>
          <ogc:Filter><ogc:PropertyIsEqualTo><ogc:PropertyName>ownership</ogc:PropertyName><ogc:Literal>смесена</ogc:Literal></ogc:PropertyIsEqualTo></ogc:Filter>
          <PolygonSymbolizer><Fill><CssParameter name="fill">#be4bdb</CssParameter><CssParameter name="fill-opacity">0.6</CssParameter></Fill></PolygonSymbolizer>
        </Rule>
        <Rule><Name>религиозна</Name><Title>религиозна / religious</Title>
          <ogc:Filter><ogc:PropertyIsEqualTo><ogc:PropertyName>ownership</ogc:PropertyName><ogc:Literal>религиозна</ogc:Literal></ogc:PropertyIsEqualTo></ogc:Filter>
          <PolygonSymbolizer><Fill><CssParameter name="fill">#fab005</CssParameter><CssParameter name="fill-opacity">0.6</CssParameter></Fill></PolygonSymbolizer>
        </Rule>
        <Rule><Name>other</Name><Title>неизвестна / unknown</Title>
          <ElseFilter/>
          <PolygonSymbolizer><Fill><CssParameter name="fill">#dee2e6</CssParameter><CssParameter name="fill-opacity">0.6</CssParameter></Fill></PolygonSymbolizer>
        </Rule>
        <Rule><Name>outline</Name><Title>граница / outline</Title>
          <LineSymbolizer><Stroke><CssParameter name="stroke">#b5651d</CssParameter><CssParameter name="stroke-width">1</CssParameter></Stroke></LineSymbolizer>
        </Rule>
        <Rule><Name>label</Name><Title>идентификатор / identifier</Title>
          <MaxScaleDenominator>2500</MaxScaleDenominator>
          <TextSymbolizer><Label><ogc:PropertyName>identifier</ogc:PropertyName></Label>
            <Font><CssParameter name="font-size">10</CssParameter></Font>
            <Halo><Radius>1.5</Radius><Fill><CssParameter name="fill">#ffffff</CssParameter></Fill></Halo>
            <Fill><CssParameter name="fill">#7a3e00</CssParameter></Fill>
          </TextSymbolizer>
        </Rule>
      </FeatureTypeStyle>
    </UserStyle>
  </NamedLayer>
</StyledLayerDescriptor>
